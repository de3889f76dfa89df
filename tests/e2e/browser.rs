//! The browser tests: real Chromium (Playwright) through nginx, as users and operators. Each
//! script in `tests/browser/` gets a cluster of its own.

use livehelp_e2e::Cluster;
use livehelp_testkit::repo_root;

/// Runs `tests/browser/<script>` against a fresh cluster; it prints `<done>` on success.
async fn run_browser_script(script: &str, done: &str) {
    let cluster = Cluster::start().await.expect("cluster");
    let browser_dir = repo_root().join("tests/browser");
    let output = tokio::process::Command::new("node")
        .arg(browser_dir.join(script))
        .arg(cluster.nginx.base_url())
        .current_dir(&browser_dir)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (deploy/local/install-deps installs the browser test's modules)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
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
