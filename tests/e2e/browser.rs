//! The browser test: real Chromium (Playwright) through nginx, as a user and an operator.
//! The script is `tests/browser/chat_round_trip.mjs`; this starts the cluster for it.

use livehelp_e2e::Cluster;
use livehelp_testkit::repo_root;

#[actix_web::test]
async fn a_user_and_an_operator_chat_in_real_browsers() {
    let cluster = Cluster::start().await.expect("cluster");
    let browser_dir = repo_root().join("tests/browser");
    let output = tokio::process::Command::new("node")
        .arg(browser_dir.join("chat_round_trip.mjs"))
        .arg(cluster.nginx.base_url())
        .current_dir(&browser_dir)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (deploy/local/install-deps installs the browser test's modules)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser test failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("chat round trip ok"), "{stdout}");
}
