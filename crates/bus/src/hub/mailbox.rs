//! A subscriber's bounded queue of arrivals: the hub puts payloads in, one task takes them
//! out. When it is full the hub drops the payload and marks the mailbox overflowed (the
//! subscriber must resynchronise, or be closed). It is a lock around a ring that holds
//! nothing while the subscriber keeps up, not a Tokio channel: for every idle connection a
//! channel kept its cache-padded state and a first block of 32 slots (832 bytes with the
//! overflow flag); a mailbox keeps 96.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::Arrival;

/// Slots a drained mailbox keeps for the next arrivals; a larger ring, grown in a burst,
/// is freed once emptied.
const KEPT_SLOTS: usize = 16;

#[derive(Debug)]
pub struct Mailbox {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    arrivals: VecDeque<Arc<Arrival>>,
    /// The task waiting for the next arrival.
    waker: Option<Waker>,
    overflowed: bool,
}

impl Mailbox {
    /// A mailbox that holds up to `capacity` arrivals.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity,
            state: Mutex::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an arrival and wakes the task waiting for it, or marks the mailbox
    /// overflowed when it is full.
    pub(super) fn put(&self, arrival: Arc<Arrival>) {
        let waker = {
            let mut state = self.state();
            if state.arrivals.len() >= self.capacity {
                state.overflowed = true;
                return;
            }
            state.arrivals.push_back(arrival);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The next arrival, in the order they came, or `Pending` until one comes.
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Arc<Arrival>> {
        let mut state = self.state();
        match state.arrivals.pop_front() {
            Some(arrival) => {
                if state.arrivals.is_empty() && state.arrivals.capacity() > KEPT_SLOTS {
                    state.arrivals = VecDeque::new();
                }
                Poll::Ready(arrival)
            }
            None => {
                match &mut state.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    waker => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// The next arrival. Cancel safe: an arrival is taken only when this returns it.
    pub async fn recv(&self) -> Arc<Arrival> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Whether arrivals were dropped because the mailbox was full (and not yet taken by
    /// [`Mailbox::take_overflow`]).
    pub fn overflowed(&self) -> bool {
        self.state().overflowed
    }

    /// Whether arrivals were dropped since the last call.
    pub fn take_overflow(&self) -> bool {
        std::mem::take(&mut self.state().overflowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Published;
    use futures_util::FutureExt;

    fn arrival(n: u8) -> Arc<Arrival> {
        Arc::new(Arrival {
            channel: "c".into(),
            published: Published {
                generation: 0,
                payload: vec![n].into(),
            },
            decoded: Default::default(),
        })
    }

    fn payload(a: &Arc<Arrival>) -> u8 {
        a.published.payload[0]
    }

    #[tokio::test]
    async fn arrivals_come_out_in_order_and_a_full_mailbox_drops_and_says_so() {
        let mailbox = Mailbox::new(2);
        assert!(mailbox.recv().now_or_never().is_none(), "nothing yet");
        for n in 1..=3 {
            mailbox.put(arrival(n));
        }
        assert!(mailbox.overflowed());
        assert_eq!(payload(&mailbox.recv().await), 1);
        assert_eq!(payload(&mailbox.recv().await), 2);
        assert!(
            mailbox.recv().now_or_never().is_none(),
            "the third was dropped"
        );
        assert!(mailbox.take_overflow());
        assert!(!mailbox.take_overflow(), "taken once");
        mailbox.put(arrival(4));
        assert_eq!(payload(&mailbox.recv().await), 4);
    }

    #[tokio::test]
    async fn a_waiting_task_is_woken_by_the_next_arrival() {
        let mailbox = Mailbox::new(8);
        let waiting = tokio::spawn({
            let mailbox = mailbox.clone();
            async move { payload(&mailbox.recv().await) }
        });
        tokio::task::yield_now().await;
        mailbox.put(arrival(7));
        assert_eq!(waiting.await.expect("task"), 7);
    }

    #[tokio::test]
    async fn a_ring_grown_in_a_burst_is_freed_once_drained() {
        let mailbox = Mailbox::new(1024);
        for n in 0..100 {
            mailbox.put(arrival(n));
        }
        for _ in 0..100 {
            mailbox.recv().await;
        }
        assert_eq!(mailbox.state().arrivals.capacity(), 0);
    }
}
