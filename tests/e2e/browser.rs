//! The browser tests: real Chromium (Playwright) through nginx, as users and operators. Each
//! script in `tests/browser/` gets a cluster of its own.

use livehelp_e2e::Cluster;
use livehelp_testkit::repo_root;

/// The Twilio account the voice browser test's cluster is configured with; the script signs
/// its webhook calls with the same token, as Twilio would.
const TWILIO_TOKEN: &str = "browser-test-twilio-token";
const TWILIO_NUMBER: &str = "+15005550006";

/// Runs `tests/browser/<script>` against a fresh cluster; it prints `<done>` on success.
async fn run_browser_script(script: &str, done: &str) {
    run_on(Cluster::start().await.expect("cluster"), script, done).await;
}

async fn run_on(cluster: Cluster, script: &str, done: &str) {
    let browser_dir = repo_root().join("tests/browser");
    let output = tokio::process::Command::new("node")
        .arg(browser_dir.join(script))
        .arg(cluster.nginx.base_url())
        .env("LIVEHELP_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        .env("LIVEHELP_TWILIO_NUMBER", TWILIO_NUMBER)
        .current_dir(&browser_dir)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (deploy/local/install-deps installs the browser test's modules)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains(done), "{stdout}");
}

#[actix_web::test]
async fn a_user_and_an_operator_chat_in_real_browsers() {
    run_browser_script("chat_round_trip.mjs", "chat round trip ok").await;
}

#[actix_web::test]
async fn help_chat_reload_block_and_peer_mode_work_in_real_browsers() {
    run_browser_script("chat_features.mjs", "chat features ok").await;
}

#[actix_web::test]
async fn the_monitor_lists_notifies_blocks_and_joins_in_real_browsers() {
    run_browser_script("monitor_features.mjs", "monitor features ok").await;
}

#[actix_web::test]
async fn call_forwarding_shows_the_code_until_a_signed_call_uses_it() {
    let cluster = Cluster::start_with(|s| {
        s.voice.enabled = true;
        s.voice.account_sid = format!("AC{}", "0".repeat(32));
        s.voice.auth_token = TWILIO_TOKEN.to_owned().into();
        s.voice.number = TWILIO_NUMBER.to_owned();
    })
    .await
    .expect("cluster");
    run_on(cluster, "voice_forwarding.mjs", "voice forwarding ok").await;
}

#[actix_web::test]
async fn an_operator_observes_and_controls_a_users_screen_in_real_browsers() {
    run_browser_script("screen_mirror.mjs", "screen mirror ok").await;
}
