//! How many instructions Redis runs to store and publish one chat message: the chat store
//! (`crates/bus/src/chat_store.rs`) through the services' own `Bus`, against a private
//! redis-server run under callgrind (valgrind), its append-only file on and a subscriber
//! on every session's channel, as in a deployment. Instruction counts do not move with the
//! machine's load, so two versions of the store compare to within a fraction of a percent,
//! where CPU time on two shared cores moves by ten.
//!
//!     cargo run --release -p livehelp-bench --bin store_cost -- [sessions] [rounds] [warm-up]
//!
//! Each round, every session's user sends one message, all at once (the gateways' batching
//! stores them in batches); the `warm-up` rounds (130 unless given) take every conversation
//! past the size from which its client id index is a hash table, as in a long run, then
//! `rounds` (40) are counted, with `sessions` (200) sessions. Callgrind's output is left in
//! a directory under the system's temporary directory, named on the last line, for
//! `callgrind_annotate`.

// A benchmark reports on standard output: that is what it is for.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::future::join_all;
use livehelp_bus::{Bus, Subscription};
use livehelp_protocol::{
    ClientMessageId, ConversationId, MessageText, Sender, SenderKind, SessionId, UserId,
};
use livehelp_testkit::{free_port, test_bus, test_settings};

/// A message as long as the side-by-side run's (100 bytes of text).
const TEXT: &str = "a message of a hundred bytes, as the side-by-side benchmark sends, \
                    to an operator on another node.";

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// redis-server under callgrind, counting nothing until told to.
struct Counted {
    child: Child,
    out: std::path::PathBuf,
}

impl Counted {
    fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let out = dir.join("callgrind.out");
        let log = std::fs::File::create(dir.join("valgrind.log"))?;
        let child = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--instr-atstart=no")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg("redis-server")
            .args(["--port", &port.to_string(), "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "everysec"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("valgrind (apt-get install valgrind)")?;
        Ok(Self { child, out })
    }

    fn instrument(&self, on: bool) -> anyhow::Result<()> {
        let status = Command::new("callgrind_control")
            .arg("-i")
            .arg(if on { "on" } else { "off" })
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("callgrind_control -i failed: {status}");
        }
        Ok(())
    }

    /// Instructions counted while instrumented: the total callgrind writes when Redis exits.
    fn total(mut self, url: &str) -> anyhow::Result<u64> {
        let mut conn = redis::Client::open(url)?.get_connection()?;
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut conn);
        self.child.wait()?;
        let text = std::fs::read_to_string(&self.out)?;
        text.lines()
            .find_map(|l| l.strip_prefix("totals: "))
            .and_then(|t| t.trim().parse().ok())
            .context("no totals in callgrind's output")
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message from every session's user, all queued before any is awaited.
async fn round(bus: &Bus, sessions: &[SessionId], n: usize) -> anyhow::Result<()> {
    let mut pending = Vec::with_capacity(sessions.len());
    for (i, session) in sessions.iter().enumerate() {
        let sender = Sender {
            kind: SenderKind::User,
            id: UserId::parse(format!("user-{i}"))?,
            name: Some(format!("User {i}")),
        };
        pending.push(bus.queue_message(
            &ConversationId::group(session.clone()),
            &ClientMessageId::parse(format!("c-{n}-{i}"))?,
            sender,
            None,
            MessageText::parse(TEXT)?,
            "2026-12-04T00:00:00.000Z".to_owned(),
        )?);
    }
    for stored in join_all(pending).await {
        stored?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (count, rounds, warm_up) = (arg(1, 200), arg(2, 40), arg(3, 130));
    let dir = std::env::temp_dir().join(format!("livehelp-store-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let redis = Counted::start(&dir, port)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while redis::Client::open(url.as_str())?
        .get_connection()
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_err()
    {
        if Instant::now() > deadline {
            bail!("redis-server under valgrind did not answer within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let bus = test_bus(&test_settings(&url, None));
    let sessions: Vec<SessionId> = (0..count)
        .map(|i| SessionId::parse(format!("session-{i:06}")))
        .collect::<Result<_, _>>()?;
    let mut subscribed: Vec<Subscription> = Vec::with_capacity(count);
    for s in &sessions {
        subscribed.push(bus.hub().subscribe(bus.chat_channel(s)).await);
    }
    for n in 0..warm_up {
        round(&bus, &sessions, n).await?;
    }
    redis.instrument(true)?;
    for n in warm_up..warm_up + rounds {
        round(&bus, &sessions, n).await?;
    }
    redis.instrument(false)?;
    drop(subscribed);
    let total = redis.total(&url)?;
    let messages = (count * rounds) as u64;
    println!(
        "Redis ran {} instructions per message ({total} for {messages} messages: {count} \
         sessions, {rounds} counted rounds after {warm_up} warm-up rounds; callgrind)",
        total / messages
    );
    println!(
        "where they go: callgrind_annotate {}",
        dir.join("callgrind.out").display()
    );
    Ok(())
}
