//! Keyset pages: a query fetches one row more than the page holds, and that extra row is how
//! we know another page follows — without counting the table.

/// The row count to fetch for a page of `limit`.
pub fn fetch_size(limit: u32) -> i64 {
    i64::from(limit) + 1
}

/// Keeps the first `limit` rows and, when the query returned more, the cursor of the last kept
/// row for the next page.
pub fn split<T, C>(
    mut rows: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> C,
) -> (Vec<T>, Option<C>) {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pages() {
        assert_eq!(split(vec![1, 2, 3], 2, |n| *n), (vec![1, 2], Some(2)));
        assert_eq!(split(vec![1, 2], 2, |n| *n), (vec![1, 2], None));
        assert_eq!(split(Vec::<i32>::new(), 2, |n| *n), (vec![], None));
        assert_eq!(fetch_size(50), 51);
    }
}
