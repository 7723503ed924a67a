//! Connection limits and the limit on wrong tokens, against the real server. Loopback has
//! every 127.x.y.z address, so clients here come from several addresses at once.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use vangnet_server::Rate;
use vangnet_server::connections::ConnectionLimits;

use crate::helpers::{Db, TestApp, test_settings};

async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("bind a loopback address");
    socket.connect(to).await.expect("connect")
}

/// Reads until the peer closes or `limit` passes; returns what came and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

async fn livez_from(from: [u8; 4], to: SocketAddr) -> String {
    let mut stream = connect_from(from, to).await;
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    read_until_closed(&mut stream, Duration::from_secs(5)).await.0
}

/// The probe: 19,990 connections that never finished their headers used up the file
/// descriptors and `/livez` stopped answering; an idle connection stayed open past 150 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_do_not_take_the_server_down() {
    let db = Db::sqlite().await;
    let mut settings = test_settings();
    settings.http.connections = ConnectionLimits {
        max_connections: 300,
        max_per_address: 50,
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
    };
    let app = TestApp::spawn_with(&db, settings).await;
    let to = app.addr;

    // 400 connections from one address that send half a header and stall.
    let mut stalled = Vec::new();
    for _ in 0..400 {
        let mut s = connect_from([127, 0, 0, 1], to).await;
        let _ = s.write_all(b"GET /livez HTTP/1.1\r\nhost: x\r\n").await;
        stalled.push(s);
    }
    let started = Instant::now();
    let answer = livez_from([127, 0, 0, 2], to).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "another address is served at once: {answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let mut refused = 0;
    for s in &mut stalled {
        let (text, closed) = read_until_closed(s, Duration::from_millis(5)).await;
        if closed {
            assert!(text.starts_with("HTTP/1.1 503"), "{text}");
            assert!(text.contains("retry-after: 1"));
            refused += 1;
        }
    }
    assert_eq!(refused, 350, "one address holds at most 50 connections");

    // The header time-out closes the 50 that were taken.
    for s in &mut stalled {
        let (_, closed) = read_until_closed(s, Duration::from_secs(3)).await;
        assert!(closed, "a connection without a whole header is closed after the header time-out");
    }
    drop(stalled);

    // An idle keep-alive connection is closed too.
    let mut idle = connect_from([127, 0, 0, 3], to).await;
    idle.write_all(b"GET /livez HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
    let opened = Instant::now();
    let (text, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 200") && closed, "{text}");
    assert!(opened.elapsed() < Duration::from_secs(4), "closed after {:?}", opened.elapsed());

    // All connections together: six addresses hold 300; the next one is told to come back.
    let mut held = Vec::new();
    for last in 10..16u8 {
        for _ in 0..50 {
            let mut s = connect_from([127, 0, 1, last], to).await;
            let _ = s.write_all(b"GET / HTTP/1.1\r\n").await;
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let full = livez_from([127, 0, 0, 4], to).await;
    assert!(
        full.starts_with("HTTP/1.1 503") && full.contains("\"code\":\"unavailable\""),
        "{full}"
    );
    drop(held);
    let mut again = String::new();
    for _ in 0..50 {
        again = livez_from([127, 0, 0, 4], to).await;
        if again.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.starts_with("HTTP/1.1 200"), "served again once connections close: {again}");
    let metrics = app.operator.text("/metrics").await;
    assert!(
        metrics.contains("vangnet_connections_refused_total{limit=\"per_address\"} 350"),
        "{metrics}"
    );
    app.stop().await;
}

/// The probe: wrong bearer tokens were answered without limit (~30,000 `401`/s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_limited_per_address() {
    let db = Db::sqlite().await;
    let mut settings = test_settings();
    settings.services.auth_failure_rate = Rate { per_second: 0.5, burst: 5 };
    settings.services.token_cache_ttl = Duration::from_secs(30);
    let app = TestApp::spawn_with(&db, settings).await;
    let body = serde_json::json!({"indicators": [{"value": "NL91ABNA0417164300"}]});
    assert_eq!(app.bank.post("/api/v1/checks", &body).await.0, 200, "the bank's token is known");
    let wrong = |from: IpAddr, n: u32| {
        let client = reqwest::Client::builder().local_address(from).build().expect("client");
        let url = app.url("/api/v1/checks");
        let body = body.clone();
        async move {
            let mut statuses = Vec::new();
            for i in 0..n {
                let response = client
                    .post(&url)
                    .bearer_auth(format!("vn_{:048x}", u64::from(i) + 7))
                    .json(&body)
                    .send()
                    .await
                    .expect("request");
                statuses.push((response.status().as_u16(), response.headers().get("retry-after").is_some()));
            }
            statuses
        }
    };
    let statuses = wrong(IpAddr::from([127, 0, 0, 1]), 8).await;
    assert_eq!(statuses[..5], [(401, false); 5], "{statuses:?}");
    assert_eq!(statuses[5..], [(429, true); 3], "{statuses:?}");
    assert_eq!(
        app.bank.post("/api/v1/checks", &body).await.0,
        200,
        "a partner with a valid token keeps working"
    );
    assert_eq!(wrong(IpAddr::from([127, 0, 0, 2]), 1).await, [(401, false)], "per address");
    app.stop().await;
}
