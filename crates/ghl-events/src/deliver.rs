//! From the spool to the sinks, at least once: claim due events under a
//! lease, hand each to every sink that has not taken it yet, and on failure
//! schedule the next attempt with exponential backoff, or move the event to
//! the dead letters after the limit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::counters::Counters;
use crate::event::{Event, State};
use crate::sink::Sink;
use crate::spool::Spool;
use crate::verify::now_ms;

#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Attempts before an event goes to the dead letters.
    pub max_attempts: i64,
    /// Wait after the first failure; doubled after each further one.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Who holds delivery leases: distinct for every running receiver
    /// ([`crate::holder::unique`]), so several share one store's work.
    pub holder: String,
    /// How long a claim lasts unless renewed; a receiver renews while it
    /// delivers, so this is how long a dead receiver's claims wait before
    /// another takes them over.
    pub lease: Duration,
    /// How often to look for retries that fell due and replays made by
    /// other processes.
    pub poll: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            holder: crate::holder::unique(),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(250),
        }
    }
}

const CLAIM: i64 = 16;

/// The wait before attempt `attempts + 1`, ±20 % so retries spread out.
pub fn backoff(opts: &DeliveryOptions, attempts: i64) -> Duration {
    let exp = attempts.clamp(0, 30) as u32;
    let base = opts
        .retry_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(opts.retry_max);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    base.mul_f64(jitter)
}

pub async fn run(
    spool: Spool,
    sinks: Arc<Vec<Sink>>,
    opts: DeliveryOptions,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) {
    let lease_ms = opts.lease.as_millis().max(1000) as i64;
    // Claims of receivers that ran here and died are taken over now rather
    // than when their leases lapse (a restart after a crash).
    let (s, me) = (spool.clone(), opts.holder.clone());
    let _ = tokio::task::spawn_blocking(move || {
        for h in s.holders().unwrap_or_default() {
            if crate::holder::is_dead_here(&h, &me) {
                let _ = s.expire(&h);
            }
        }
    })
    .await;
    let holding = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let renewer = tokio::spawn(renew(
        spool.clone(),
        opts.holder.clone(),
        lease_ms,
        holding.clone(),
    ));
    loop {
        if *stop.borrow() {
            break;
        }
        let s = spool.clone();
        let holder = opts.holder.clone();
        holding.store(true, std::sync::atomic::Ordering::Relaxed);
        let claimed = tokio::task::spawn_blocking(move || s.claim(&holder, CLAIM, lease_ms))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let taken_over: std::collections::HashSet<String> = claimed
            .iter()
            .filter(|e| e.redelivery)
            .map(|e| e.webhook_id.clone())
            .collect();
        if !taken_over.is_empty() {
            for sink in sinks.iter() {
                if let Sink::Jsonl(j) = sink {
                    let (j, ids) = (j.clone(), taken_over.clone());
                    let _ = tokio::task::spawn_blocking(move || j.skip_if_written(&ids)).await;
                }
            }
        }
        if claimed.is_empty() {
            holding.store(false, std::sync::atomic::Ordering::Relaxed);
            let s = spool.clone();
            let due = tokio::task::spawn_blocking(move || s.next_due())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            // Until the next retry falls due, if sooner than the poll
            // (which also finds replays and other receivers' lapsed claims).
            let wait = match due {
                Some(at) => {
                    Duration::from_millis((at - now_ms()).clamp(50, i64::MAX) as u64).min(opts.poll)
                }
                None => opts.poll,
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        // Successes are marked together, one transaction per claimed batch,
        // so delivery does not take a disk sync per event from the
        // receiving side. A crash before the mark re-delivers at most this
        // batch (the JSON-lines sink skips what it already wrote).
        let mut delivered = Vec::new();
        for ev in claimed {
            // Stop between events, never in the middle of one.
            if *stop.borrow() {
                break;
            }
            if deliver_one(&spool, &sinks, &opts, &counters, &ev).await {
                delivered.push(ev.seq);
            }
        }
        let n = delivered.len() as u64;
        let (s, h) = (spool.clone(), opts.holder.clone());
        if n > 0
            && let Ok(Ok(())) =
                tokio::task::spawn_blocking(move || s.delivered_many(&delivered, &h)).await
        {
            counters
                .delivered
                .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    }
    renewer.abort();
    let s = spool.clone();
    let holder = opts.holder.clone();
    let _ = tokio::task::spawn_blocking(move || s.release(&holder)).await;
}

/// Renew this receiver's claims every third of the lease while it holds
/// any, so they lapse only when the process is gone.
async fn renew(
    spool: Spool,
    holder: String,
    lease_ms: i64,
    holding: Arc<std::sync::atomic::AtomicBool>,
) {
    let every = Duration::from_millis((lease_ms / 3).max(100) as u64);
    loop {
        tokio::time::sleep(every).await;
        if holding.load(std::sync::atomic::Ordering::Relaxed) {
            let (s, h) = (spool.clone(), holder.clone());
            let _ = tokio::task::spawn_blocking(move || s.renew(&h, lease_ms)).await;
        }
    }
}

/// Hand one event to its sinks; true when all took it (marked by the
/// caller), false when the failure was recorded.
async fn deliver_one(
    spool: &Spool,
    sinks: &[Sink],
    opts: &DeliveryOptions,
    counters: &Counters,
    ev: &Event,
) -> bool {
    let mut failure = None;
    // Only the sinks with something to do; a sink's success is written down
    // only when another sink still to come could fail (so a retry does not
    // repeat it): each write is a durable commit, paid per event.
    let todo: Vec<&Sink> = sinks
        .iter()
        .filter(|s| s.takes(ev) && !ev.sink_done(&s.name()))
        .collect();
    for (i, sink) in todo.iter().enumerate() {
        let name = sink.name();
        match sink.deliver(ev).await {
            Ok(()) if i + 1 < todo.len() => {
                let (s, h, seq) = (spool.clone(), opts.holder.clone(), ev.seq);
                let _ = tokio::task::spawn_blocking(move || s.sink_done(seq, &h, &name)).await;
            }
            Ok(()) => {}
            Err(e) => {
                failure = Some(format!("{name}: {e}"));
                break;
            }
        }
    }
    let (s, h, seq) = (spool.clone(), opts.holder.clone(), ev.seq);
    match failure {
        None => true,
        Some(err) => {
            Counters::bump(&counters.failed_attempts);
            let next = now_ms() + backoff(opts, ev.attempts).as_millis() as i64;
            let max = opts.max_attempts;
            let state = tokio::task::spawn_blocking(move || s.failed(seq, &h, &err, max, next))
                .await
                .ok()
                .and_then(Result::ok);
            if state == Some(State::Dead) {
                Counters::bump(&counters.dead);
            }
            false
        }
    }
}
