//! The per-instance registry of connections and their channels, and the fan-out.
//!
//! Dispatch looks up only the subscribers of the event's channels (never every connection)
//! and `try_send`s one shared frame onto each connection's bounded queue. A full queue marks
//! that connection slow; its task sees the mark and closes it. Nothing here ever waits on a
//! client.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::channel::{self, Channel};
use super::frame::EventFrame;
use crate::db::activity::FeedRow;

pub type ConnId = u64;

/// A channel within a tenant.
type Key = (String, Channel);
/// A user within a tenant.
type UserKey = (String, String);

/// What a connection's queue carries.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<EventFrame>),
    /// Something may have changed this connection's access; check its subscriptions.
    Recheck,
}

struct Conn {
    tx: mpsc::Sender<Delivery>,
    slow: CancellationToken,
    user: UserKey,
    channels: HashSet<Channel>,
}

#[derive(Default)]
struct Registry {
    conns: HashMap<ConnId, Conn>,
    channels: HashMap<Key, HashSet<ConnId>>,
    users: HashMap<UserKey, HashSet<ConnId>>,
}

pub struct Hub {
    registry: RwLock<Registry>,
    next_id: AtomicU64,
    queue: usize,
    max_per_user: usize,
    /// The id of the newest event dispatched, for tests and the benchmark to wait on.
    last_dispatched: AtomicU64,
}

/// The user already has as many connections as allowed.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyConnections;

/// One connection's place in the hub; dropping it removes the connection everywhere.
pub struct Registration {
    pub id: ConnId,
    pub rx: mpsc::Receiver<Delivery>,
    /// Cancelled when the hub found this connection's queue full.
    pub slow: CancellationToken,
    hub: Arc<Hub>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.disconnect(self.id);
    }
}

impl Hub {
    pub fn new(queue: usize, max_per_user: usize) -> Self {
        Self {
            registry: RwLock::default(),
            next_id: AtomicU64::new(1),
            queue: queue.max(1),
            max_per_user,
            last_dispatched: AtomicU64::new(0),
        }
    }

    /// Registers a connection of `user_id` in `tenant_id`.
    pub fn connect(
        self: &Arc<Self>,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Registration, TooManyConnections> {
        let user = (tenant_id.to_string(), user_id.to_string());
        let (tx, rx) = mpsc::channel(self.queue);
        let slow = CancellationToken::new();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut reg = self.write();
        let mine = reg.users.entry(user.clone()).or_default();
        if mine.len() >= self.max_per_user {
            if mine.is_empty() {
                reg.users.remove(&user);
            }
            return Err(TooManyConnections);
        }
        mine.insert(id);
        reg.conns.insert(
            id,
            Conn {
                tx,
                slow: slow.clone(),
                user,
                channels: HashSet::new(),
            },
        );
        crate::metrics::realtime_changed(1.0, 0.0);
        Ok(Registration {
            id,
            rx,
            slow,
            hub: self.clone(),
        })
    }

    pub fn subscribe(&self, id: ConnId, channel: &Channel) {
        let mut reg = self.write();
        let Some(conn) = reg.conns.get_mut(&id) else {
            return;
        };
        if !conn.channels.insert(channel.clone()) {
            return;
        }
        let key = (conn.user.0.clone(), channel.clone());
        reg.channels.entry(key).or_default().insert(id);
        crate::metrics::realtime_changed(0.0, 1.0);
    }

    pub fn unsubscribe(&self, id: ConnId, channel: &Channel) {
        let mut reg = self.write();
        let Some(conn) = reg.conns.get_mut(&id) else {
            return;
        };
        if !conn.channels.remove(channel) {
            return;
        }
        let key = (conn.user.0.clone(), channel.clone());
        remove_from(&mut reg.channels, &key, id);
        crate::metrics::realtime_changed(0.0, -1.0);
    }

    fn disconnect(&self, id: ConnId) {
        let mut reg = self.write();
        let Some(conn) = reg.conns.remove(&id) else {
            return;
        };
        #[allow(clippy::cast_precision_loss)] // far below 2^52 subscriptions
        crate::metrics::realtime_changed(-1.0, -(conn.channels.len() as f64));
        for channel in conn.channels {
            remove_from(&mut reg.channels, &(conn.user.0.clone(), channel), id);
        }
        remove_from(&mut reg.users, &conn.user, id);
    }

    /// Delivers one committed event to every local subscriber of its channels, then asks the
    /// connections whose access it may have changed to check again. Returns how many queues
    /// it reached.
    pub fn dispatch(&self, row: &FeedRow) -> usize {
        let mut reached = 0;
        {
            let reg = self.read();
            for channel in channel::routes(row) {
                let key = (row.tenant_id.clone(), channel);
                let Some(subscribers) = reg.channels.get(&key) else {
                    continue;
                };
                let frame = Delivery::Event(Arc::new(EventFrame::new(row, key.1.clone())));
                for id in subscribers {
                    reached += usize::from(offer(&reg, *id, &frame));
                }
            }
            let recheck = channel::recheck_after(row);
            let mut targets: HashSet<ConnId> = HashSet::new();
            if let Some(user) = recheck.user
                && let Some(ids) = reg.users.get(&(row.tenant_id.clone(), user))
            {
                targets.extend(ids);
            }
            if let Some(channel) = recheck.channel
                && let Some(ids) = reg.channels.get(&(row.tenant_id.clone(), channel))
            {
                targets.extend(ids);
            }
            for id in targets {
                offer(&reg, id, &Delivery::Recheck);
            }
        }
        let id = u64::try_from(row.id).unwrap_or(0);
        self.last_dispatched.fetch_max(id, Ordering::Release);
        reached
    }

    /// The newest event id dispatched so far.
    pub fn last_dispatched(&self) -> i64 {
        i64::try_from(self.last_dispatched.load(Ordering::Acquire)).unwrap_or(i64::MAX)
    }

    pub fn connections(&self) -> usize {
        self.read().conns.len()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to
        // route events; carrying on beats taking realtime down.
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Puts `delivery` on a connection's queue without waiting; a full queue marks it slow.
fn offer(reg: &Registry, id: ConnId, delivery: &Delivery) -> bool {
    let Some(conn) = reg.conns.get(&id) else {
        return false;
    };
    match conn.tx.try_send(delivery.clone()) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            conn.slow.cancel();
            false
        }
        Err(TrySendError::Closed(_)) => false,
    }
}

fn remove_from<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, HashSet<ConnId>>,
    key: &K,
    id: ConnId,
) {
    if let Some(set) = map.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_created(id: i64, tenant: &str, project: &str) -> FeedRow {
        FeedRow {
            id,
            tenant_id: tenant.into(),
            workspace_id: Some("w".into()),
            project_id: Some(project.into()),
            actor_id: None,
            kind: "task.created".into(),
            subject_type: "task".into(),
            subject_id: format!("task-{id}"),
            payload: "{}".into(),
            task_id: Some(format!("task-{id}")),
            user_id: None,
            created_at: 0,
        }
    }

    #[test]
    fn events_reach_only_their_channel_in_their_tenant() {
        let hub = Arc::new(Hub::new(8, 10));
        let mut a = hub.connect("t1", "u1").unwrap();
        let mut b = hub.connect("t1", "u2").unwrap();
        let mut other_tenant = hub.connect("t2", "u3").unwrap();
        hub.subscribe(a.id, &Channel::Project("p".into()));
        hub.subscribe(b.id, &Channel::Project("q".into()));
        hub.subscribe(other_tenant.id, &Channel::Project("p".into()));
        assert_eq!(hub.dispatch(&task_created(1, "t1", "p")), 1);
        assert!(matches!(a.rx.try_recv(), Ok(Delivery::Event(f)) if f.id == 1));
        assert!(b.rx.try_recv().is_err());
        assert!(other_tenant.rx.try_recv().is_err());
        assert_eq!(hub.last_dispatched(), 1);
    }

    #[test]
    fn a_full_queue_marks_only_that_connection_slow() {
        let hub = Arc::new(Hub::new(2, 10));
        let stuck = hub.connect("t", "u1").unwrap();
        let mut reading = hub.connect("t", "u2").unwrap();
        let p = Channel::Project("p".into());
        hub.subscribe(stuck.id, &p);
        hub.subscribe(reading.id, &p);
        for id in 1..=5 {
            hub.dispatch(&task_created(id, "t", "p"));
            assert!(matches!(reading.rx.try_recv(), Ok(Delivery::Event(f)) if f.id == id));
        }
        assert!(stuck.slow.is_cancelled());
        assert!(!reading.slow.is_cancelled());
    }

    #[test]
    fn connections_per_user_are_capped_and_released_on_drop() {
        let hub = Arc::new(Hub::new(2, 2));
        let first = hub.connect("t", "u").unwrap();
        let _second = hub.connect("t", "u").unwrap();
        assert_eq!(hub.connect("t", "u").err(), Some(TooManyConnections));
        assert!(hub.connect("t", "someone-else").is_ok());
        hub.subscribe(first.id, &Channel::Project("p".into()));
        drop(first);
        assert!(hub.connect("t", "u").is_ok());
        assert_eq!(hub.dispatch(&task_created(1, "t", "p")), 0);
    }

    #[test]
    fn membership_changes_ask_the_users_connections_to_recheck() {
        let hub = Arc::new(Hub::new(4, 10));
        let mut conn = hub.connect("t", "u").unwrap();
        let mut row = task_created(1, "t", "p");
        row.kind = "member.removed".into();
        row.project_id = None;
        row.task_id = None;
        row.subject_type = "user".into();
        row.subject_id = "u".into();
        hub.dispatch(&row);
        assert!(matches!(conn.rx.try_recv(), Ok(Delivery::Recheck)));
    }
}
