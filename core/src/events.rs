//! Events the core pushes to the app (state changes it did not ask for directly).
//!
//! Owns: the [`Event`] enum (later capabilities add variants), listener registration, and delivery.
//! Delivery is synchronous on the thread that caused the event, in registration order; a listener
//! that panics is skipped, not propagated. Dropping the [`Subscription`] stops delivery. Events
//! carry no personal data, so an app may log them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::checkin::wire::TicketState;
use crate::citizen::Status;
use crate::dossier::DeliveryState;
use crate::trust::TrustListState;
use crate::wallet::WalletState;
use crate::wallet::history::{HistoryKind, HistoryOutcome};

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The portal became reachable or unreachable (reported on change, and on the first contact).
    PortalReachabilityChanged { reachable: bool },
    /// The store was re-encrypted under a new key.
    StoreKeyRotated,
    /// Something `status()` reports changed.
    StatusChanged { status: Status },
    /// The wallet's state changed (activated, locked, blocked, reset), or may have.
    WalletStateChanged { state: WalletState },
    /// A record was added to the disclosure history (`wallet.history_page` reads it).
    HistoryRecorded {
        id: i64,
        kind: HistoryKind,
        outcome: HistoryOutcome,
    },
    /// The trust list's state changed (it went stale, expired, arrived, or stopped verifying), or
    /// a new list replaced the one in use (then `state` may be unchanged).
    TrustListChanged { state: TrustListState },
    /// A check-in was recorded in the diary (`checkins.entry` reads it). Not emitted when a
    /// second scan of the same code returned the open entry.
    CheckedIn { entry_id: i64 },
    /// The citizen checked out of a diary entry by hand. (An automatic check-out is computed when
    /// the entry is read; no event announces it.)
    CheckedOut { entry_id: i64 },
    /// An exposure notice matched a diary entry (`checkins.matches` lists it).
    ExposureMatched { match_id: i64 },
    /// A counter's queue ticket arrived or changed: its number, the people ahead, its state.
    TicketUpdated {
        entry_id: i64,
        number: String,
        position: u32,
        state: TicketState,
    },
    /// A filed dossier was queued, received by the portal (with a receipt code), parked with a
    /// reason, or put back in the queue (`dossiers.submission` reads it).
    DossierDeliveryChanged {
        submission_id: i64,
        state: DeliveryState,
    },
    /// A dossier's attachments are being uploaded: bytes the portal acknowledged so far, of all.
    DossierUploadProgress {
        submission_id: i64,
        sent_bytes: u64,
        total_bytes: u64,
    },
    /// A received dossier's status changed at the portal (found by the status feed:
    /// `dossiers.sync_statuses`), or a withdrawal request of it was answered.
    DossierStatusChanged {
        submission_id: i64,
        status: crate::dossier::TrackingStatus,
    },
    /// A withdrawal request of a dossier reached the portal, or was refused.
    DossierWithdrawalChanged {
        submission_id: i64,
        state: crate::dossier::WithdrawalState,
    },
    /// A dossier's fee was asked for, or paid (`dossiers.fees` reads it).
    DossierFeeChanged {
        submission_id: i64,
        fee_id: String,
        state: crate::dossier::FeeState,
    },
}

pub trait EventListener: Send + Sync {
    fn on_event(&self, event: Event);
}

type Listeners = Mutex<Vec<(u64, Arc<dyn EventListener>)>>;

#[derive(Default)]
pub(crate) struct EventBus {
    listeners: Arc<Listeners>,
    next_id: AtomicU64,
}

impl EventBus {
    pub(crate) fn subscribe(&self, listener: Arc<dyn EventListener>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.listeners).push((id, listener));
        Subscription {
            id,
            listeners: Arc::downgrade(&self.listeners),
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        // Deliver outside the lock so a listener may subscribe or unsubscribe from its callback.
        let listeners: Vec<_> = lock(&self.listeners)
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for listener in listeners {
            let event = event.clone();
            let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                listener.on_event(event);
            }));
            if delivered.is_err() {
                tracing::error!("an event listener panicked; it stays subscribed");
            }
        }
    }

    #[cfg(test)]
    fn listener_count(&self) -> usize {
        lock(&self.listeners).len()
    }
}

fn lock(listeners: &Listeners) -> std::sync::MutexGuard<'_, Vec<(u64, Arc<dyn EventListener>)>> {
    listeners.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps a listener registered. Drop it (or call [`Subscription::cancel`]) to stop delivery.
pub struct Subscription {
    id: u64,
    listeners: Weak<Listeners>,
}

impl Subscription {
    pub fn cancel(self) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(listeners) = self.listeners.upgrade() {
            lock(&listeners).retain(|(id, _)| *id != self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Event>>);
    impl EventListener for Recorder {
        fn on_event(&self, event: Event) {
            self.0.lock().unwrap().push(event);
        }
    }

    struct Panicker;
    impl EventListener for Panicker {
        fn on_event(&self, _: Event) {
            panic!("listener bug");
        }
    }

    #[test]
    fn delivery_stops_when_the_subscription_is_dropped() {
        let bus = EventBus::default();
        let recorder = Arc::new(Recorder::default());
        let _panicker = bus.subscribe(Arc::new(Panicker));
        let subscription = bus.subscribe(recorder.clone());
        bus.emit(Event::StoreKeyRotated);
        drop(subscription);
        bus.emit(Event::StoreKeyRotated);
        assert_eq!(*recorder.0.lock().unwrap(), vec![Event::StoreKeyRotated]);
        assert_eq!(bus.listener_count(), 1);
    }
}
