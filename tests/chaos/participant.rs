//! One chat participant, behaving as the widget and the monitor page do: it reconnects
//! through nginx whenever its connection dies, reopens its conversations after the last
//! message id it saw, and resends every unacknowledged message with its original cmid. It
//! records everything it is told, so the test can check what reached whom.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livehelp_protocol::MessageId;
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::link::Link;

/// No frame at all for this long (the server pings every 20 s) means a dead connection.
const SILENCE: Duration = Duration::from_secs(45);
/// Unacknowledged sends one participant keeps in flight; beyond it the next waits.
const IN_FLIGHT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Operator,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub id: String,
    pub kind: Kind,
    pub token: String,
    /// Conversations followed from their first message.
    pub follows: Vec<String>,
}

/// A message as one participant received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: MessageId,
    pub cmid: String,
    pub from: String,
    /// Which of the participant's connections brought it (1 = the first).
    pub connection: u64,
}

/// What one participant saw and did; shared with the test, which reads it.
#[derive(Debug, Default)]
pub struct Record {
    /// Per conversation, messages in the order they arrived (duplicates left out).
    pub received: HashMap<String, Vec<Received>>,
    seen: HashSet<(String, MessageId)>,
    last: HashMap<String, MessageId>,
    /// The same message id delivered again.
    pub duplicated: u64,
    /// A message older than one already delivered (the widget would drop it).
    pub reordered: u64,
    /// cmid → (conversation, id) of every acknowledged send.
    pub acks: HashMap<String, (String, MessageId)>,
    /// A cmid acknowledged again with another id: stored twice.
    pub ack_conflicts: u64,
    /// Sends not acknowledged yet: cmid → (conversation, text).
    pub pending: BTreeMap<String, (String, String)>,
    /// Distinct messages this participant wrote (resends not counted).
    pub sent: u64,
    /// Sends repeated with their cmid after a reconnect or a refusal.
    pub resent: u64,
    /// Error codes the server answered to this participant's frames.
    pub errors: HashMap<String, u64>,
    pub connects: u64,
    /// Why connecting failed, counted.
    pub connect_errors: HashMap<String, u64>,
    /// Per connection (the first at 0): how it resumed, for explaining a gap.
    pub resumed: Vec<Resume>,
    /// A user's latest `chat.state`.
    pub state: Option<Value>,
    counter: u64,
}

impl Record {
    fn received(&mut self, conversation: &str, m: &Value) {
        let Some(id) = m["id"].as_str().and_then(|s| s.parse::<MessageId>().ok()) else {
            return;
        };
        if !self.seen.insert((conversation.to_owned(), id)) {
            self.duplicated += 1;
            return;
        }
        match self.last.get(conversation) {
            Some(last) if id < *last => self.reordered += 1,
            _ => {
                self.last.insert(conversation.to_owned(), id);
            }
        }
        self.received
            .entry(conversation.to_owned())
            .or_default()
            .push(Received {
                id,
                cmid: m["cmid"].as_str().unwrap_or_default().to_owned(),
                from: m["from"]["id"].as_str().unwrap_or_default().to_owned(),
                connection: self.connects,
            });
    }

    fn acknowledged(&mut self, ack: &Value) {
        let (Some(cmid), Some(id)) = (
            ack["cmid"].as_str(),
            ack["id"].as_str().and_then(|s| s.parse::<MessageId>().ok()),
        ) else {
            return;
        };
        let conversation = ack["conversation"].as_str().unwrap_or_default().to_owned();
        if let Some((_, earlier)) = self.acks.get(cmid)
            && *earlier != id
        {
            self.ack_conflicts += 1;
        }
        self.pending.remove(cmid);
        self.acks.insert(cmid.to_owned(), (conversation, id));
    }

    /// The last message id seen in a conversation: where a reconnect resumes.
    pub fn last(&self, conversation: &str) -> Option<MessageId> {
        self.last.get(conversation).copied()
    }
}

/// How one connection resumed its conversations.
#[derive(Debug, Default)]
pub struct Resume {
    /// When it opened, in milliseconds since the epoch (to line up with kills).
    pub at_ms: u64,
    /// Conversation → the `after` it was reopened from.
    pub after: Vec<(String, Option<MessageId>)>,
}

/// What the test tells a participant.
#[derive(Debug)]
pub enum Command {
    /// Write one message to this conversation.
    Send(String),
}

/// Who an operator answers: help conversation → attached operator, as the users' chat
/// states say.
pub type Attached = Arc<Mutex<HashMap<String, String>>>;

pub struct Participant {
    pub spec: Spec,
    pub record: Arc<Mutex<Record>>,
    pub commands: mpsc::UnboundedSender<Command>,
}

/// The pacing of a participant's own messages while chaos runs.
#[derive(Debug, Clone)]
pub struct Pace {
    pub chatting: Arc<std::sync::atomic::AtomicBool>,
    pub every: Duration,
}

impl Participant {
    /// Starts the participant's task: it connects to `url` and keeps going until the test
    /// ends (the runtime drops it).
    pub fn spawn(spec: Spec, url: String, pace: Pace, attached: Attached) -> Self {
        let record = Arc::new(Mutex::new(Record::default()));
        let (commands, rx) = mpsc::unbounded_channel();
        let task = Task {
            spec: spec.clone(),
            url,
            pace,
            attached,
            record: record.clone(),
            commands: rx,
            activated: false,
        };
        tokio::spawn(task.run());
        Self {
            spec,
            record,
            commands,
        }
    }

    pub fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        lock(&self.record)
    }
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Task {
    spec: Spec,
    url: String,
    pace: Pace,
    attached: Attached,
    record: Arc<Mutex<Record>>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Users turn their chat on until a state says it is on; then it stays on, across
    /// reconnects, without them doing anything.
    activated: bool,
}

impl Task {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(20);
        loop {
            match Link::connect(&self.url, &self.spec.token).await {
                Ok(link) => {
                    lock(&self.record).connects += 1;
                    backoff = Duration::from_millis(20);
                    self.converse(link).await;
                }
                Err(e) => {
                    let mut record = lock(&self.record);
                    *record.connect_errors.entry(e).or_default() += 1;
                }
            }
            let jitter = rand::rng().random_range(0..=backoff.as_millis() as u64);
            tokio::time::sleep(backoff / 2 + Duration::from_millis(jitter / 2)).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// One connection's life: resume, then chat until it dies.
    async fn converse(&mut self, mut link: Link) {
        if self.spec.kind == Kind::User
            && !self.activated
            && !link.send(&json!({"type": "chat.activate"})).await
        {
            return;
        }
        for conversation in self.spec.follows.clone() {
            if !self.open(&mut link, &conversation).await {
                return;
            }
        }
        let resend: Vec<_> = lock(&self.record)
            .pending
            .iter()
            .map(|(c, (conv, text))| (c.clone(), conv.clone(), text.clone()))
            .collect();
        lock(&self.record).resent += resend.len() as u64;
        for (cmid, conversation, text) in resend {
            if !link.send(&send_frame(&cmid, &conversation, &text)).await {
                return;
            }
        }
        let mut tick = tokio::time::interval(self.pace.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retry = tokio::time::interval(Duration::from_millis(500));
        let mut refused: HashSet<String> = HashSet::new();
        loop {
            tokio::select! {
                frame = tokio::time::timeout(SILENCE, link.recv()) => {
                    let Ok(Some(frame)) = frame else { return };
                    if !self.handle(&mut link, frame, &mut refused).await {
                        return;
                    }
                }
                Some(Command::Send(conversation)) = self.commands.recv() => {
                    if !self.write(&mut link, &conversation).await {
                        return;
                    }
                }
                _ = tick.tick() => {
                    if !self.pace.chatting.load(std::sync::atomic::Ordering::Relaxed) {
                        continue;
                    }
                    let Some(conversation) = self.pick() else { continue };
                    if lock(&self.record).pending.len() < IN_FLIGHT
                        && !self.write(&mut link, &conversation).await
                    {
                        return;
                    }
                }
                _ = retry.tick(), if !refused.is_empty() => {
                    let again: Vec<_> = {
                        let record = lock(&self.record);
                        refused
                            .drain()
                            .filter_map(|c| record.pending.get(&c).map(|(v, t)| (c, v.clone(), t.clone())))
                            .collect()
                    };
                    lock(&self.record).resent += again.len() as u64;
                    for (cmid, conversation, text) in again {
                        if !link.send(&send_frame(&cmid, &conversation, &text)).await {
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn open(&mut self, link: &mut Link, conversation: &str) -> bool {
        let after = {
            let mut record = lock(&self.record);
            let after = record.last(conversation);
            if record.resumed.len() < record.connects as usize {
                record.resumed.push(Resume {
                    at_ms: crate::now_ms(),
                    after: Vec::new(),
                });
            }
            if let Some(resume) = record.resumed.last_mut() {
                resume.after.push((conversation.to_owned(), after));
            }
            after
        };
        let mut frame = json!({"type": "chat.open", "conversation": conversation});
        if let Some(after) = after {
            frame["after"] = json!(after.to_string());
        }
        link.send(&frame).await
    }

    /// The conversation the next message goes to: a user's own; for an operator, one of
    /// the help chats attached to them (none: they have nothing to say).
    fn pick(&self) -> Option<String> {
        match self.spec.kind {
            Kind::User => self.spec.follows.first().cloned(),
            Kind::Operator => {
                let attached = lock(&self.attached);
                let mine: Vec<_> = self
                    .spec
                    .follows
                    .iter()
                    .filter(|c| attached.get(*c) == Some(&self.spec.id))
                    .collect();
                if mine.is_empty() {
                    return None;
                }
                Some(mine[rand::rng().random_range(0..mine.len())].clone())
            }
        }
    }

    /// Writes a new message; false when the connection is gone (it stays pending).
    async fn write(&mut self, link: &mut Link, conversation: &str) -> bool {
        let (cmid, text) = {
            let mut record = lock(&self.record);
            record.counter += 1;
            record.sent += 1;
            let cmid = format!("{}-{}", self.spec.id, record.counter);
            let text = format!("{} says {}", self.spec.id, record.counter);
            record
                .pending
                .insert(cmid.clone(), (conversation.to_owned(), text.clone()));
            (cmid, text)
        };
        link.send(&send_frame(&cmid, conversation, &text)).await
    }

    async fn handle(
        &mut self,
        link: &mut Link,
        frame: Value,
        refused: &mut HashSet<String>,
    ) -> bool {
        match frame["type"].as_str() {
            Some("chat.message") => {
                let conversation = frame["conversation"].as_str().unwrap_or_default();
                lock(&self.record).received(conversation, &frame);
            }
            Some("chat.ack") => lock(&self.record).acknowledged(&frame),
            Some("chat.state") => {
                if let Some(conversation) = frame["conversation"].as_str() {
                    let mut attached = lock(&self.attached);
                    match frame["operator"]["id"].as_str() {
                        Some(op) => attached.insert(conversation.to_owned(), op.to_owned()),
                        None => attached.remove(conversation),
                    };
                }
                self.activated |= frame["active"] == true;
                lock(&self.record).state = Some(frame);
            }
            Some("error") => {
                let code = frame["code"].as_str().unwrap_or("?").to_owned();
                *lock(&self.record).errors.entry(code.clone()).or_default() += 1;
                match frame["ref"].as_str() {
                    // A refused send goes again with the same cmid.
                    Some(cmid) => {
                        refused.insert(cmid.to_owned());
                    }
                    // An open that failed (Redis busy) is repeated; opening is idempotent.
                    None if code == "unavailable" => {
                        for conversation in self.spec.follows.clone() {
                            if !self.open(link, &conversation).await {
                                return false;
                            }
                        }
                    }
                    None => {}
                }
            }
            _ => {}
        }
        true
    }
}

fn send_frame(cmid: &str, conversation: &str, text: &str) -> Value {
    json!({"type": "chat.send", "cmid": cmid, "conversation": conversation, "text": text})
}
