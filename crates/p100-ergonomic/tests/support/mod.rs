//! Test helpers: a scripted HTTP/1.1 server on loopback that runs on the test's own runtime (so
//! its clock is the paused test clock), records every request with its arrival time, and
//! answers from a script, including by closing the connection without an answer.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use p100_ergonomic::{Client, RetryPolicy};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The API key of every test client.
pub const KEY: &str = "test-key-5ecr3t-do-not-print";

/// One answer of the script.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then close the connection without answering.
    Close,
    /// Read the request and never answer (keeps the connection open).
    Hang,
    /// Wait this long (on the test's clock), then answer with the inner reply.
    Delayed(std::time::Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// This reply, sent after `delay` on the test's clock.
    pub fn after(self, delay: std::time::Duration) -> Self {
        Reply::Delayed(delay, Box::new(self))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct ScriptServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptServer {
    /// Starts a server answering the n-th request with `script[n]` (and 599 once it runs out).
    pub async fn start(script: Vec<Reply>) -> ScriptServer {
        let mut script = script.into_iter();
        ScriptServer::start_with(move |_| {
            script
                .next()
                .unwrap_or_else(|| Reply::text(599, "script exhausted"))
        })
        .await
    }

    /// Starts a server that answers each request with what `respond` returns for it (it sees
    /// the request, arrival time included).
    pub async fn start_with(
        mut respond: impl FnMut(&Recorded) -> Reply + Send + 'static,
    ) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                if let Some(stream) = serve(stream, &mut respond, &recorded).await {
                    held.push(stream);
                }
            }
        });
        ScriptServer {
            addr,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    /// Times between consecutive requests, in milliseconds.
    pub fn gaps_ms(&self) -> Vec<u128> {
        let requests = self.requests();
        requests
            .windows(2)
            .map(|pair| (pair[1].at - pair[0].at).as_millis())
            .collect()
    }
}

/// Serves one connection; returns it when the reply is to hang.
async fn serve(
    stream: TcpStream,
    respond: &mut (impl FnMut(&Recorded) -> Reply + Send),
    recorded: &Mutex<Vec<Recorded>>,
) -> Option<BufReader<TcpStream>> {
    let mut stream = BufReader::new(stream);
    let request = read_request(&mut stream).await?;
    let mut reply = respond(&request);
    recorded.lock().expect("lock").push(request);
    while let Reply::Delayed(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::Close => None,
        Reply::Hang => Some(stream),
        Reply::Delayed(..) => None,
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} Status\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            let stream = stream.get_mut();
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
            None
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        let length: usize = length.parse().ok()?;
        body.resize(length, 0);
        stream.read_exact(&mut body).await.ok()?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Recorded {
        at: Instant::now(),
        method,
        path,
        headers,
        body,
    })
}

/// A client for `base_url` whose only timers are the retry waits: no request timeout and no
/// idle-connection pool, so a paused test clock advances exactly by those waits.
/// The call most tests make: `user_get_balances` for user `u1`.
pub async fn get_balances(
    client: &Client,
) -> Result<p100_ergonomic::types::UserBalances, p100_ergonomic::Error> {
    client
        .user_get_balances()
        .external_user_id("u1")
        .send()
        .await
}

pub fn client(base_url: &str, policy: RetryPolicy) -> Client {
    client_with_timeout(base_url, None, policy)
}

/// [`client`] with a request timeout (which also runs on the paused clock).
pub fn client_with_timeout(
    base_url: &str,
    timeout: Option<std::time::Duration>,
    policy: RetryPolicy,
) -> Client {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0);
    Client::builder()
        .api_key(KEY)
        .base_url(base_url)
        .timeout(timeout)
        .retry(policy)
        .reqwest_builder(http)
        .build()
        .expect("client")
}

/// Collects what a `tracing_subscriber::fmt` subscriber writes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("lock").clone()).expect("UTF-8")
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The directory of the documented facts.
pub fn facts_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/facts")
}

/// Every facts file, parsed.
pub fn facts_files() -> Vec<(String, serde_yaml::Value)> {
    let mut files: Vec<_> = std::fs::read_dir(facts_dir())
        .expect("facts directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read facts");
            let value = serde_yaml::from_str(&text).expect("parse facts");
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, value)
        })
        .collect()
}

/// The facts entry with this `title` in `file`.
pub fn fact(file: &str, title: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(facts_dir().join(file)).expect("read facts");
    let entries: Vec<serde_yaml::Value> = serde_yaml::from_str(&text).expect("parse facts");
    entries
        .into_iter()
        .find(|entry| entry.get("title").and_then(|t| t.as_str()) == Some(title))
        .unwrap_or_else(|| panic!("no entry titled {title:?} in {file}"))
}
