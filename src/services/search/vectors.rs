//! Each instance's in-memory copy of the stored vectors, one `VectorSet` per project, kept in
//! step with the database.
//!
//! Every embedding write and every task deletion bumps the project's row in
//! `search_generations` in the same transaction, and the bump holds that row's lock until
//! commit, so generations are handed out in commit order. Before a search, one query reads
//! the generations of the projects in scope; a project whose generation moved loads only the
//! rows written after the generation it last saw, then compares counts, and only when they
//! differ (a deletion) lists the ids to drop. Rows of another model are never loaded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::db::{self, Db};
use crate::search::VectorSet;
#[cfg(feature = "ann")]
use crate::search::ann::Ann;
use crate::search::embedder::from_bytes;

/// One project's vectors and the generation they reflect.
#[derive(Default)]
pub struct ProjectVectors {
    /// Serialises refreshes, so concurrent searches load a change once.
    refresh: tokio::sync::Mutex<()>,
    loaded: RwLock<Loaded>,
}

#[derive(Default)]
struct Loaded {
    generation: i64,
    set: Option<VectorSet>,
}

impl ProjectVectors {
    fn generation(&self) -> i64 {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .generation
    }

    /// Runs `f` on the set (None when the project has no vectors yet).
    pub fn with<R>(&self, f: impl FnOnce(Option<&VectorSet>) -> R) -> R {
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        f(loaded.set.as_ref())
    }

    pub fn len(&self) -> usize {
        self.with(|s| s.map_or(0, VectorSet::len))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct Vectors {
    db: Db,
    model: String,
    #[cfg_attr(not(feature = "ann"), allow(dead_code))]
    ann_threshold: usize,
    projects: moka::future::Cache<String, Arc<ProjectVectors>>,
}

impl Vectors {
    pub fn new(db: Db, model: String, ann_threshold: usize) -> Self {
        Self {
            db,
            model,
            ann_threshold,
            // Projects nobody searched for an hour are dropped; they reload on demand.
            projects: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        }
    }

    /// The up-to-date vectors of each project in `project_ids` (in that order).
    pub async fn projects(&self, project_ids: &[String]) -> sqlx::Result<Vec<Arc<ProjectVectors>>> {
        let current: HashMap<String, i64> = db::search::generations(self.db.read(), project_ids)
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(project_ids.len());
        for project_id in project_ids {
            let generation = current.get(project_id).copied().unwrap_or(0);
            let entry = self
                .projects
                .get_with(project_id.clone(), async {
                    Arc::new(ProjectVectors::default())
                })
                .await;
            if entry.generation() != generation {
                self.refresh(project_id, &entry, generation).await?;
            }
            out.push(entry);
        }
        Ok(out)
    }

    async fn refresh(
        &self,
        project_id: &str,
        entry: &Arc<ProjectVectors>,
        generation: i64,
    ) -> sqlx::Result<()> {
        let _one_at_a_time = entry.refresh.lock().await;
        let seen = entry.generation();
        if seen == generation {
            return Ok(());
        }
        if generation < seen || generation == 0 {
            // The project was deleted (and perhaps its id reused in tests): start over.
            *entry.loaded.write().unwrap_or_else(|e| e.into_inner()) = Loaded::default();
            if generation == 0 {
                return Ok(());
            }
        }
        let after = entry.generation();
        let rows =
            db::search::vectors_since(self.db.read(), project_id, &self.model, after).await?;
        let count = db::search::count_vectors(self.db.read(), project_id, &self.model).await?;
        let mismatch = {
            let mut loaded = entry.loaded.write().unwrap_or_else(|e| e.into_inner());
            for row in &rows {
                let dims = usize::try_from(row.dims).unwrap_or(0);
                let Some(vector) = from_bytes(&row.vector, dims) else {
                    continue;
                };
                let set = loaded.set.get_or_insert_with(|| VectorSet::new(dims));
                set.upsert(&row.task_id, &vector);
            }
            loaded.generation = generation;
            loaded.set.as_ref().map_or(0, VectorSet::len) as i64 != count
        };
        if mismatch {
            let ids: std::collections::HashSet<String> =
                db::search::vector_ids(self.db.read(), project_id, &self.model)
                    .await?
                    .into_iter()
                    .collect();
            let mut loaded = entry.loaded.write().unwrap_or_else(|e| e.into_inner());
            if let Some(set) = &mut loaded.set {
                set.retain(|id| ids.contains(id));
            }
        }
        #[cfg(feature = "ann")]
        self.maybe_build_graph(entry);
        Ok(())
    }

    #[cfg(feature = "ann")]
    /// Starts a graph build on the blocking pool when the set has grown past the threshold
    /// (or changed a lot since its graph); searches stay exact until it is installed.
    fn maybe_build_graph(&self, entry: &Arc<ProjectVectors>) {
        let snapshot = {
            let mut loaded = entry.loaded.write().unwrap_or_else(|e| e.into_inner());
            match &mut loaded.set {
                Some(set) if set.wants_ann(self.ann_threshold) => set.snapshot(),
                Some(set) if set.has_ann() && set.len() < self.ann_threshold / 2 => {
                    set.drop_ann();
                    return;
                }
                _ => return,
            }
        };
        let entry = entry.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let points = snapshot.ids.len();
            // A panic inside the graph library must not leave the set "building" forever.
            let built =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Ann::build(snapshot)));
            let mut loaded = entry.loaded.write().unwrap_or_else(|e| e.into_inner());
            match (built, &mut loaded.set) {
                (Ok(ann), Some(set)) => set.install(ann),
                (Err(_), Some(set)) => {
                    set.abandon_build();
                    tracing::error!(points, "search graph build panicked; searching exactly");
                    return;
                }
                _ => return,
            }
            tracing::info!(
                points,
                ms = started.elapsed().as_millis() as u64,
                "search graph built"
            );
        });
    }

    /// Bytes held by all loaded projects (for `kanri search` and the benchmark).
    pub fn memory_bytes(&self) -> usize {
        self.projects
            .iter()
            .map(|(_, p)| p.with(|s| s.map_or(0, VectorSet::memory_bytes)))
            .sum()
    }
}
