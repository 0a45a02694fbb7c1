//! The streamed upload. Memory stays bounded whatever the file size: the first part is
//! buffered (so a small file goes up in one PUT), then parts are handed to a multipart upload
//! with at most `PARTS_IN_FLIGHT` being sent at once.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

/// S3's smallest part (all but the last) is 5 MiB.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts being sent at once; with the part being filled this bounds an upload's memory to
/// about `(PARTS_IN_FLIGHT + 2) * PART_SIZE`.
const PARTS_IN_FLIGHT: usize = 2;
/// How much of the start of a file is kept for content sniffing.
pub const HEAD_BYTES: usize = 8192;

/// What was stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// The first bytes, for sniffing the content type.
    pub head: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    /// The client's body broke off or was malformed.
    #[error("reading the upload failed: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

/// Counts, hashes and keeps the head of what passes through.
struct Tally {
    limit: u64,
    size: u64,
    hasher: Sha256,
    head: Vec<u8>,
}

impl Tally {
    fn add(&mut self, chunk: &[u8]) -> Result<(), PutError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(PutError::TooLarge(self.limit));
        }
        self.hasher.update(chunk);
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        Ok(())
    }

    fn done(self) -> Stored {
        Stored {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            head: self.head,
        }
    }
}

pub async fn put_stream<S, E>(
    store: &dyn ObjectStore,
    path: &Path,
    body: S,
    limit: u64,
) -> Result<Stored, PutError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut tally = Tally {
        limit,
        size: 0,
        hasher: Sha256::new(),
        head: Vec::new(),
    };
    let mut first = BytesMut::new();
    while first.len() < PART_SIZE {
        match body.next().await {
            None => {
                store.put(path, PutPayload::from(first.freeze())).await?;
                return Ok(tally.done());
            }
            Some(Err(e)) => return Err(PutError::Body(e.to_string())),
            Some(Ok(chunk)) => {
                tally.add(&chunk)?;
                first.extend_from_slice(&chunk);
            }
        }
    }
    let mut writer =
        WriteMultipart::new_with_chunk_size(store.put_multipart(path).await?, PART_SIZE);
    writer.put(first.freeze());
    match feed(&mut writer, &mut body, &mut tally).await {
        Ok(()) => {
            writer.finish().await?;
            Ok(tally.done())
        }
        Err(e) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, %path, "could not abort a multipart upload");
            }
            Err(e)
        }
    }
}

async fn feed<S, E>(
    writer: &mut WriteMultipart,
    body: &mut std::pin::Pin<&mut S>,
    tally: &mut Tally,
) -> Result<(), PutError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PutError::Body(e.to_string()))?;
        tally.add(&chunk)?;
        // Back-pressure: stop reading the client until a part has been sent.
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.put(chunk);
    }
    Ok(())
}
