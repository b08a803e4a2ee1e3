//! The running sandbox: the HTTP server (its own accept loop, so a connection can be closed
//! without an answer), the scheduler that applies due events in sandbox time, the webhook
//! delivery tasks, and [`Sandbox`], the handle that owns them all.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rust_decimal::Decimal;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::clock::{Clock, VTime};
use crate::config::{Config, ConfigError};
use crate::faults::FaultRule;
use crate::state::{Holder, State};
use crate::webhooks::{self, Delivery};

/// State shared by the server, the scheduler and the handle.
pub(crate) struct Shared {
    pub(crate) api_key: String,
    pub(crate) clock: Clock,
    state: Mutex<State>,
    wake: Notify,
    http: reqwest::Client,
    updates: watch::Sender<u64>,
    tasks: Mutex<JoinSet<()>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn now(&self) -> VTime {
        self.clock.now()
    }

    /// Applies the events due now, starts their webhook attempts and lets the scheduler
    /// re-plan. Call after every change of the state.
    pub(crate) fn kick(self: &Arc<Self>) {
        let jobs = {
            let mut st = self.lock();
            let now = self.clock.now();
            st.run_due(now, &self.clock)
        };
        for job in jobs {
            self.spawn_delivery(job);
        }
        self.updates.send_modify(|n| *n += 1);
        self.wake.notify_one();
    }

    fn spawn_delivery(self: &Arc<Self>, job: webhooks::Job) {
        let shared = Arc::clone(self);
        let task = async move {
            let sent_at = shared.clock.now();
            let token = shared.lock().webhook_token().to_string();
            let result = webhooks::attempt(&shared.http, &token, &job).await;
            tracing::debug!(delivery = job.id, url = %job.url, ?result, "webhook attempt");
            let now = shared.clock.now();
            shared.lock().record_attempt(job.id, sent_at, result, now);
            shared.kick();
        };
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    pub(crate) fn advance(self: &Arc<Self>, by: Duration) {
        self.clock.advance(by);
        self.kick();
    }
}

/// Kills the connection a request came on (the drop-after-processing fault).
#[derive(Clone, Debug)]
pub(crate) struct ConnKill(Arc<Notify>);

impl ConnKill {
    pub(crate) fn kill(&self) {
        self.0.notify_one();
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The webhook HTTP client could not be built.
    #[error("cannot build the webhook HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running sandbox P100 on loopback. Dropping it shuts it down.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = p100_sandbox::Sandbox::start().await?;
/// let client = sandbox.client();
/// let rates = client.exchange_get_rate().send().await?.into_inner();
/// println!("{} serves {} rates", sandbox.base_url(), rates.len());
/// # Ok(()) }
/// ```
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    scheduler: JoinHandle<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
        self.scheduler.abort();
        self.shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .abort_all();
    }
}

impl Sandbox {
    /// Starts a sandbox with the default configuration on a free loopback port, with a random
    /// API key.
    pub async fn start() -> Result<Self, StartError> {
        Self::start_with(Config::default()).await
    }

    /// Starts a sandbox with `config`.
    pub async fn start_with(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let api_key = config
            .api_key
            .clone()
            .unwrap_or_else(|| format!("sandbox-{}", uuid::Uuid::new_v4().simple()));
        let clock = Clock::new(config.time_scale, config.manual_clock);
        let state = State::new(&config, clock.now());
        let http = reqwest::Client::builder()
            .timeout(config.webhooks.timeout)
            .build()?;
        let shared = Arc::new(Shared {
            api_key,
            clock,
            state: Mutex::new(state),
            wake: Notify::new(),
            http,
            updates: watch::channel(0).0,
            tasks: Mutex::new(JoinSet::new()),
        });
        let app = crate::api::router(shared.clone())
            .merge(crate::admin::router(shared.clone()))
            .fallback(crate::api::no_route)
            .method_not_allowed_fallback(crate::api::wrong_method)
            .layer(axum::extract::DefaultBodyLimit::max(crate::api::BODY_LIMIT));
        let server = tokio::spawn(serve(listener, app));
        let scheduler = tokio::spawn(schedule(shared.clone()));
        tracing::info!(%addr, "P100 sandbox listening");
        Ok(Self {
            addr,
            shared,
            server,
            scheduler,
        })
    }

    /// `http://127.0.0.1:PORT`, the base URL to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the sandbox accepts in `x-api-key`.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// A generated raw client for this sandbox that sends the API key with every request.
    pub fn client(&self) -> p100_api::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(mut key) = reqwest::header::HeaderValue::from_str(self.api_key()) {
            key.set_sensitive(true);
            headers.insert("x-api-key", key);
        }
        // No redirects: the key would follow them to another host.
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        p100_api::Client::new_with_client(&self.base_url(), http, p100_api::Executor::default())
    }

    /// Sandbox time since the start.
    pub fn now(&self) -> Duration {
        self.shared.now()
    }

    /// Moves sandbox time forward and applies everything that became due (settlements,
    /// webhook retries). Webhook attempts it starts run in the background: wait for them with
    /// [`Sandbox::wait_for_deliveries`].
    pub fn advance(&self, by: Duration) {
        self.shared.advance(by);
    }

    /// Expires every rate lock (exchange and order) now; returns how many were still valid.
    pub fn expire_locks(&self) -> usize {
        let now = self.shared.now();
        self.shared.lock().expire_locks(now)
    }

    /// Adds an injected fault.
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), ConfigError> {
        rule.validate().map_err(ConfigError::Invalid)?;
        self.shared.lock().faults.push(rule);
        Ok(())
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// The injected faults still active.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared.lock().faults.clone()
    }

    /// The webhook events emitted so far and what became of them, oldest first: every one
    /// still pending, and the newest settled ones up to
    /// [`Retention::deliveries`](crate::Retention::deliveries).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.to_vec()
    }

    /// Waits (real time, at most `timeout`) until `done` holds for the deliveries; returns
    /// them, or `None` on timeout. Needs no sleeping: it wakes on every change.
    pub async fn wait_for_deliveries(
        &self,
        timeout: Duration,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Option<Vec<Delivery>> {
        let mut updates = self.shared.updates.subscribe();
        let wait = async {
            loop {
                let deliveries = self.deliveries();
                if done(&deliveries) {
                    return deliveries;
                }
                if updates.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok()
    }

    /// The balance of `holder` in `currency` (`None`: no such user).
    pub fn balance(&self, holder: &Holder, currency: &str) -> Option<Decimal> {
        self.shared.lock().balance(holder, currency)
    }

    /// Simulates an incoming crypto deposit for a user: with `travel_rule` it waits in
    /// `WAITING_FOR_TR_DATA` for Update Travel Rule, else it is verified and credited after the
    /// settle delay. Returns the `cryptoDepositId`.
    pub fn simulate_crypto_deposit(
        &self,
        external_user_id: &str,
        currency: &str,
        amount: Decimal,
        travel_rule: bool,
    ) -> Result<uuid::Uuid, String> {
        let now = self.shared.now();
        let id = self
            .shared
            .lock()
            .crypto_deposit(
                external_user_id,
                currency,
                amount,
                travel_rule,
                now,
                &self.shared.clock,
            )
            .map_err(|e| e.to_string())?;
        self.shared.kick();
        Ok(id)
    }

    /// Simulates an incoming SEPA deposit (to a user, or to the partner when `None`).
    pub fn simulate_sepa_deposit(
        &self,
        external_user_id: Option<&str>,
        amount: Decimal,
        sender_iban: &str,
        sender_name: &str,
    ) -> Result<uuid::Uuid, String> {
        let holder = external_user_id.map_or(Holder::Partner, |u| Holder::User(u.to_string()));
        let now = self.shared.now();
        let id = self
            .shared
            .lock()
            .sepa_deposit(
                holder,
                amount,
                sender_iban.to_string(),
                sender_name.to_string(),
                now,
            )
            .map_err(|e| e.to_string())?;
        self.shared.kick();
        Ok(id)
    }

    /// Runs until `shutdown` completes, then shuts the sandbox down.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        drop(self);
    }
}

/// The accept loop: one hyper HTTP/1 connection per socket, each able to be killed by the
/// request it serves (fault injection). Connections live in a `JoinSet`, so aborting this task
/// closes them all.
async fn serve(listener: TcpListener, app: axum::Router) {
    let mut connections = JoinSet::new();
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let kill = Arc::new(Notify::new());
        let conn_kill = ConnKill(kill.clone());
        let service =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(conn_kill.clone());
                    req
                });
        connections.spawn(async move {
            let io = TokioIo::new(socket);
            let service = TowerToHyperService::new(service);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
            tokio::select! {
                result = conn => {
                    if let Err(e) = result {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                () = kill.notified() => {
                    tracing::debug!("connection dropped on purpose");
                }
            }
        });
    }
}

/// Applies due events when they fall due, in sandbox time.
async fn schedule(shared: Arc<Shared>) {
    loop {
        let next = shared.lock().next_due();
        let now = shared.clock.now();
        match next {
            Some(at) if at <= now => shared.kick(),
            Some(at) => match shared.clock.real_delay(at - now) {
                Some(wait) => {
                    let wait = wait.max(Duration::from_micros(100));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shared.wake.notified() => {}
                    }
                }
                None => shared.wake.notified().await,
            },
            None => shared.wake.notified().await,
        }
    }
}
