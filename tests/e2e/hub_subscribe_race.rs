//! A message-loss race the chaos test found (docs/reliability.md), reproduced without
//! chaos: `Hub::subscribe` returned at once to a second local subscriber of a channel whose
//! first subscriber's SUBSCRIBE Redis had not confirmed yet. What was published in between
//! reached nobody on this process, and as the connection generation did not change,
//! nothing re-read it: a chat connection that read its backlog in that window skipped
//! those messages for good while receiving the later ones. (It belongs in crates/bus's own
//! tests; it lives here because crates/bus has no test dependencies yet.)

use std::time::Duration;

use livehelp_protocol::SessionId;
use livehelp_testkit::{RedisServer, test_bus, test_settings};

#[tokio::test(flavor = "current_thread")]
async fn a_second_subscriber_gets_what_is_published_once_subscribe_returned() {
    let redis = RedisServer::start().expect("redis");
    let bus = test_bus(&test_settings(&redis.url(), None));
    bus.hub().run_here();
    for _ in 0..200 {
        if bus.hub().connected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(bus.hub().connected(), "the hub connects");
    let channel = bus.chat_channel(&SessionId::parse("race").expect("id"));

    // The first subscriber: polled once, it has registered the channel and queued its
    // SUBSCRIBE for the hub's task, which has not run yet (one thread).
    let hub = bus.hub().clone();
    let mut first = Box::pin({
        let (hub, channel) = (hub.clone(), channel.clone());
        async move { hub.subscribe(channel).await }
    });
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(std::future::Future::poll(first.as_mut(), &mut cx).is_pending());

    // The second subscriber's subscribe returns; what is published from now on is its to
    // receive. (A blocking connection publishes without letting the hub's task run.)
    let mut second = hub.subscribe(channel.clone()).await;
    let mut publisher = redis::Client::open(redis.url())
        .and_then(|c| c.get_connection())
        .expect("a plain connection");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("published after subscribe returned")
        .query(&mut publisher)
        .expect("publish");
    let _first = first.await;

    let got = tokio::time::timeout(Duration::from_secs(1), second.recv()).await;
    assert!(
        got.is_ok_and(|r| r.is_ok()),
        "a message published after subscribe returned never arrived"
    );
}
