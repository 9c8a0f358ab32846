//! Issue #11: 100 parallel wrong logins took RSS from 194 MB to 2.1 GB, kept afterwards. Its
//! own test binary, so that no other test's memory is in the figure.

mod common;

use common::loopback::Loopback;
use std::time::Duration;

fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_200_wrong_logins_leaves_rss_within_100_mb() {
    // Distinct names from distinct forwarded addresses, so that throttling lets every one of
    // them reach the password check.
    let s = Loopback::start(|a| a.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let hashes = "rulestudio_password_hashes_total";
    let before_hashes = s.metric(hashes).await;
    let start = rss_mb();
    let s = std::sync::Arc::new(s);
    let burst: Vec<_> = (0..200)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let from = format!("198.51.100.{}", i % 250);
                let name = format!("user{i}");
                s.login(&name, "wrong-password", &[("X-Forwarded-For", &from)])
                    .await
                    .status
            })
        })
        .collect();
    for task in burst {
        let status = task.await.unwrap();
        assert!(status == 401 || status == 429, "{status}");
    }
    let checked = s.metric(hashes).await - before_hashes;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let end = rss_mb();
    println!("login burst: RSS {start} MB -> {end} MB after 10 s; {checked} passwords checked");
    assert!(
        checked >= 150,
        "only {checked} of 200 reached the password check"
    );
    assert!(end <= start + 100, "RSS {start} MB -> {end} MB");
}
