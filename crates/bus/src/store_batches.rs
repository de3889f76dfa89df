//! Group commit for chat messages: every message the process is asked to store joins one
//! queue, and one task stores whatever has gathered in a single batch
//! ([`Bus::store_batch`]: one call of the store script on one server). An idle process
//! stores each message at once, alone; a busy one stores many per call, so that Redis runs
//! one script and the process sends one command for the messages that arrived together,
//! instead of one each. Up to [`IN_FLIGHT`] batches are outstanding (one when each waits
//! for replicas), all on the connection that keeps calls in order, so messages are stored
//! in the order they were queued: a connection can queue its next send before its last one
//! is stored, and they still arrive in the order it sent them. The task also picks the
//! sends that keep their conversation up ([`crate::upkeep`]).

use std::sync::Mutex;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::mpsc::error::SendError;
use tokio::sync::{mpsc, oneshot};

use crate::chat_store::{Prepared, Stored};
use crate::upkeep::Upkeep;
use crate::{Bus, BusError};

/// Most messages stored in one batch: bounds the time Redis spends in one script.
const MAX_BATCH: usize = 32;
/// Batches outstanding at once: while they are, the next gathers.
const IN_FLIGHT: usize = 8;

struct Request {
    message: Prepared,
    reply: oneshot::Sender<Result<Stored, BusError>>,
}

/// The queue of messages to store, and the task that stores them.
#[derive(Default)]
pub(crate) struct StoreBatches {
    /// The task's queue. The task starts on the runtime of its first user, and again on the
    /// current one if that runtime has ended (the queue is closed then).
    queue: Mutex<Option<mpsc::UnboundedSender<Request>>>,
}

impl StoreBatches {
    /// Queues a message behind those queued before it; its outcome comes on the receiver
    /// (which fails if the task ended with the runtime it ran on).
    pub(crate) fn queue(
        &self,
        bus: &Bus,
        message: Prepared,
    ) -> oneshot::Receiver<Result<Stored, BusError>> {
        let (reply, outcome) = oneshot::channel();
        let request = Request { message, reply };
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(SendError(request)) = queue.get_or_insert_with(|| start(bus)).send(request) {
            let fresh = start(bus);
            let _ = fresh.send(request);
            *queue = Some(fresh);
        }
        outcome
    }
}

fn start(bus: &Bus) -> mpsc::UnboundedSender<Request> {
    let (queue, requests) = mpsc::unbounded_channel();
    tokio::spawn(run(bus.clone(), requests));
    queue
}

/// Stores what has gathered while earlier batches are outstanding, answering each sender.
async fn run(bus: Bus, mut requests: mpsc::UnboundedReceiver<Request>) {
    let in_flight = if bus.ack_replicas == 0 { IN_FLIGHT } else { 1 };
    let mut batches = FuturesOrdered::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut upkeep = Upkeep::new(Instant::now());
    loop {
        tokio::select! {
            biased;
            Some(failed) = batches.next(), if !batches.is_empty() => upkeep.failed(failed),
            gathered = requests.recv_many(&mut batch, MAX_BATCH), if batches.len() < in_flight => {
                if gathered == 0 {
                    break;
                }
                let mut gathered = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                let now = Instant::now();
                for request in &mut gathered {
                    request.message.upkeep = upkeep.due(request.message.stream(), now);
                }
                batches.push_back(store(&bus, gathered));
            }
        }
    }
    while batches.next().await.is_some() {}
}

/// Stores a batch and answers each sender; returns the streams of the sends that were to
/// keep their conversation up and failed.
async fn store(bus: &Bus, batch: Vec<Request>) -> Vec<String> {
    let messages: Vec<&Prepared> = batch.iter().map(|r| &r.message).collect();
    let outcomes = bus.store_batch(&messages).await;
    drop(messages);
    let mut failed = Vec::new();
    for (request, outcome) in batch.into_iter().zip(outcomes) {
        if request.message.upkeep && outcome.is_err() {
            failed.push(request.message.stream().to_owned());
        }
        let _ = request.reply.send(outcome);
    }
    failed
}
