//! The load generator: N concurrent clients send the seeded mix over
//! loopback until a request count or a deadline is reached, through a small
//! balancer that can take an instance out of rotation (to restart it) and
//! put it back.
//!
//! Besides throughput and latency it keeps the tally that the fleet test
//! needs: which ORM calls, per instance, the requests caused, known from
//! each request and its answer (see [`crate::mix`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::mix::{BaseData, ClientMix, Kind, OrmCall, Request, Table, seed_requests};

/// How hard and how long to drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadConfig {
    /// Concurrent clients.
    pub clients: usize,
    /// Requests in all, at most.
    pub requests: u64,
    /// Time, at most.
    pub duration: Duration,
    /// The mix's seed.
    pub seed: u64,
}

/// The flags every load shares (`cargo xtask load`, `fleet`, `bench-service`).
#[derive(clap::Args, Debug)]
pub struct MixArgs {
    /// Concurrent clients
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub clients: usize,
    /// The mix's seed
    #[arg(long, value_name = "N", default_value_t = 14)]
    pub seed: u64,
}

impl MixArgs {
    /// The load these flags, `requests` and `duration` (seconds) describe.
    pub fn load(&self, requests: u64, duration: u64) -> LoadConfig {
        LoadConfig {
            clients: self.clients,
            requests,
            duration: Duration::from_secs(duration),
            seed: self.seed,
        }
    }
}

/// The instances requests go to, each in or out of rotation.
#[derive(Debug)]
pub struct Balancer {
    targets: Vec<Target>,
    client: reqwest::Client,
    completed: AtomicU64,
}

#[derive(Debug)]
struct Target {
    base: String,
    active: AtomicBool,
    in_flight: AtomicUsize,
}

/// One answered request, for the tally.
#[derive(Clone, Copy, Debug)]
struct Answer {
    instance: usize,
    kind: Kind,
    status: u16,
}

impl Balancer {
    /// A balancer over `bases` (`http://127.0.0.1:PORT`), all in rotation.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(bases: &[String], clients: usize) -> Result<Arc<Self>, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(clients.max(1))
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Arc::new(Self {
            targets: bases
                .iter()
                .map(|base| Target {
                    base: base.clone(),
                    active: AtomicBool::new(true),
                    in_flight: AtomicUsize::new(0),
                })
                .collect(),
            client,
            completed: AtomicU64::new(0),
        }))
    }

    /// Requests answered so far (every run through this balancer).
    #[must_use]
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::SeqCst)
    }

    /// Takes instance `index` out of rotation and waits (at most `timeout`)
    /// until no request to it is in flight.
    ///
    /// # Errors
    /// Requests still in flight after `timeout`.
    pub async fn drain(&self, index: usize, timeout: Duration) -> Result<(), String> {
        let target = &self.targets[index];
        target.active.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        while target.in_flight.load(Ordering::SeqCst) > 0 {
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: requests still in flight after {timeout:?}",
                    target.base
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Puts instance `index` back into rotation.
    pub fn activate(&self, index: usize) {
        self.targets[index].active.store(true, Ordering::SeqCst);
    }

    /// Sends `request` to an instance in rotation, starting the search at
    /// `preferred`; returns the instance, the status and the body.
    async fn send(
        &self,
        preferred: usize,
        request: &Request,
    ) -> Result<(usize, u16, String), String> {
        let count = self.targets.len();
        for step in 0..count {
            let index = (preferred + step) % count;
            let target = &self.targets[index];
            // Counted in flight before the check, so a drain that saw no
            // request in flight cannot miss this one (both sides SeqCst).
            target.in_flight.fetch_add(1, Ordering::SeqCst);
            if !target.active.load(Ordering::SeqCst) {
                target.in_flight.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let answer = self.call(&target.base, request).await;
            target.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.completed.fetch_add(1, Ordering::SeqCst);
            return answer
                .map(|(status, body)| (index, status, body))
                .map_err(|e| format!("{} {}{}: {e}", request.method, target.base, request.path));
        }
        Err("no instance in rotation".to_owned())
    }

    async fn call(&self, base: &str, request: &Request) -> Result<(u16, String), reqwest::Error> {
        let url = format!("{base}{}", request.path);
        let method = match request.method {
            "POST" => reqwest::Method::POST,
            "PATCH" => reqwest::Method::PATCH,
            "DELETE" => reqwest::Method::DELETE,
            _ => reqwest::Method::GET,
        };
        let mut builder = self.client.request(method, url);
        if let Some(body) = &request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let body = response.text().await?;
        Ok((status, body))
    }
}

/// What the requests caused: ORM calls per (instance, call), as the fleet
/// test compares them with Prometheus's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Calls per instance index and call labels.
    pub calls: BTreeMap<(usize, OrmCall), u64>,
}

impl Tally {
    fn add(&mut self, instance: usize, calls: &[OrmCall]) {
        for call in calls {
            *self.calls.entry((instance, *call)).or_default() += 1;
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &Self) {
        for (key, count) in &other.calls {
            *self.calls.entry(*key).or_default() += count;
        }
    }

    /// All calls, every instance.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }
}

/// A run's figures.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Requests answered.
    pub requests: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of every answered request, sorted, in microseconds.
    latencies_us: Vec<u32>,
    /// Answers per (kind, status).
    pub answers: BTreeMap<(Kind, u16), u64>,
    /// Requests per instance index.
    pub per_instance: BTreeMap<usize, u64>,
    /// The ORM calls the answered requests caused.
    pub tally: Tally,
    /// What could not be accounted for: transport errors and statuses a
    /// kind is never answered with (at most 20 listed; see `anomaly_count`).
    pub anomalies: Vec<String>,
    /// How many anomalies there were.
    pub anomaly_count: u64,
}

impl LoadReport {
    /// Requests per second.
    #[must_use]
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile of latency (nearest rank), `None` without requests.
    #[must_use]
    pub fn latency(&self, q: f64) -> Option<Duration> {
        if self.latencies_us.is_empty() {
            return None;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize)
            .clamp(1, self.latencies_us.len());
        Some(Duration::from_micros(u64::from(
            self.latencies_us[rank - 1],
        )))
    }

    fn note(&mut self, anomaly: String) {
        self.anomaly_count += 1;
        if self.anomalies.len() < 20 {
            self.anomalies.push(anomaly);
        }
    }

    fn absorb(&mut self, answer: Answer, latency: Duration) {
        self.requests += 1;
        self.latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        *self
            .answers
            .entry((answer.kind, answer.status))
            .or_default() += 1;
        *self.per_instance.entry(answer.instance).or_default() += 1;
        match answer.kind.calls_for(answer.status) {
            Some(calls) => self.tally.add(answer.instance, calls),
            None => self.note(format!(
                "{:?} answered {} by instance {}: its ORM calls cannot be known",
                answer.kind, answer.status, answer.instance
            )),
        }
    }

    /// Adds a later run's figures to this one (elapsed times add up).
    pub fn append(&mut self, later: Self) {
        self.elapsed += later.elapsed;
        self.merge(later);
        self.latencies_us.sort_unstable();
    }

    fn merge(&mut self, other: Self) {
        self.requests += other.requests;
        self.latencies_us.extend(other.latencies_us);
        for (key, count) in other.answers {
            *self.answers.entry(key).or_default() += count;
        }
        for (key, count) in other.per_instance {
            *self.per_instance.entry(key).or_default() += count;
        }
        self.tally.merge(&other.tally);
        let room = 20_usize.saturating_sub(self.anomalies.len());
        self.anomalies
            .extend(other.anomalies.into_iter().take(room));
        self.anomaly_count += other.anomaly_count;
    }

    /// One line: requests, throughput, p50 and p99.
    #[must_use]
    pub fn summary(&self) -> String {
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        format!(
            "{} requests in {:.2}s: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} ORM calls, {} anomalies",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            ms(self.latency(0.5)),
            ms(self.latency(0.99)),
            self.tally.total(),
            self.anomaly_count,
        )
    }
}

/// The `id` of a created row, from its 201 body.
fn created_id(body: &str) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: i64,
    }
    serde_json::from_str::<Created>(body).ok().map(|c| c.id)
}

/// Creates the base rows through instance `instance` (one request at a
/// time); returns their ids and what the requests caused.
///
/// # Errors
/// A request that failed or was not answered 201.
pub async fn seed(balancer: &Balancer, instance: usize) -> Result<(BaseData, LoadReport), String> {
    let started = Instant::now();
    let mut report = LoadReport::default();
    let mut base = BaseData::default();
    for level in [Table::Users, Table::Posts, Table::Comments] {
        let parents = match level {
            Table::Users => Vec::new(),
            Table::Posts => base.users.clone(),
            Table::Comments => base.posts.clone(),
        };
        for request in seed_requests(level, &parents) {
            let sent = Instant::now();
            let (index, status, body) = balancer.send(instance, &request).await?;
            report.absorb(
                Answer {
                    instance: index,
                    kind: request.kind,
                    status,
                },
                sent.elapsed(),
            );
            let id = created_id(&body)
                .filter(|_| status == 201)
                .ok_or_else(|| format!("seeding {}: answered {status}: {body}", request.path))?;
            match level {
                Table::Users => base.users.push(id),
                Table::Posts => base.posts.push(id),
                Table::Comments => base.comments.push(id),
            }
        }
    }
    report.elapsed = started.elapsed();
    report.latencies_us.sort_unstable();
    Ok((base, report))
}

/// Runs the mix: `config.clients` clients until `config.requests` requests
/// were sent or `config.duration` passed, whichever comes first.
pub async fn run(
    balancer: &Arc<Balancer>,
    base: &Arc<BaseData>,
    config: &LoadConfig,
) -> LoadReport {
    let started = Instant::now();
    let deadline = started + config.duration;
    let tickets = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::with_capacity(config.clients);
    for client in 0..config.clients {
        let (balancer, base, tickets) =
            (Arc::clone(balancer), Arc::clone(base), Arc::clone(&tickets));
        let (limit, seed) = (config.requests, config.seed);
        clients.push(tokio::spawn(async move {
            let mut mix = ClientMix::new(seed, client);
            let mut report = LoadReport::default();
            let mut turn = client;
            while tickets.fetch_add(1, Ordering::SeqCst) < limit && Instant::now() < deadline {
                let request = mix.next(&base);
                let sent = Instant::now();
                match balancer.send(turn, &request).await {
                    Ok((instance, status, body)) => {
                        report.absorb(
                            Answer {
                                instance,
                                kind: request.kind,
                                status,
                            },
                            sent.elapsed(),
                        );
                        if let (Some(what), 201) = (request.creates, status)
                            && let Some(id) = created_id(&body)
                        {
                            mix.created(what, id);
                        }
                    }
                    Err(error) => report.note(error),
                }
                turn = turn.wrapping_add(1);
            }
            report
        }));
    }
    let mut total = LoadReport::default();
    for client in clients {
        match client.await {
            Ok(report) => total.merge(report),
            Err(e) => total.note(format!("a client task failed: {e}")),
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}
