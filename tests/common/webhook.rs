//! A stand-in for the OTP delivery service: an in-process HTTP listener on 127.0.0.1:0 that
//! records every JSON body POSTed to it. Pass [`OtpWebhook::url`] as
//! `PORTCULLIS_OTP_WEBHOOK_URL`; the server POSTs `{"email","userId","otp",…}` there for each
//! two-factor OTP (Better Auth's `otpOptions.sendOTP({ user, otp })`,
//! better-auth: dist/plugins/two-factor/otp/index.mjs).

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use serde_json::Value;

/// How long [`OtpWebhook::wait_for`] waits for a delivery by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type Deliveries = Arc<Mutex<Vec<Value>>>;

pub struct OtpWebhook {
    /// Where the server should POST (any path is accepted; this one is `/otp`).
    pub url: String,
    deliveries: Deliveries,
    handle: ServerHandle,
}

async fn receive(body: web::Bytes, deliveries: web::Data<Deliveries>) -> HttpResponse {
    let value = serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    deliveries.lock().unwrap().push(value);
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"ok":true}"#)
}

fn email_of(v: &Value) -> Option<String> {
    v.get("email")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

impl OtpWebhook {
    /// Binds 127.0.0.1:0 and starts serving on the current actix system.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/otp", listener.local_addr().unwrap());
        let deliveries: Deliveries = Arc::default();
        let data = web::Data::new(deliveries.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url,
            deliveries,
            handle,
        }
    }

    /// Every body received so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Value> {
        self.deliveries.lock().unwrap().clone()
    }

    /// The bodies whose `email` equals `email` (case-insensitive).
    pub fn deliveries_for(&self, email: &str) -> Vec<Value> {
        let email = email.to_lowercase();
        self.deliveries()
            .into_iter()
            .filter(|v| email_of(v).as_deref() == Some(email.as_str()))
            .collect()
    }

    /// How many deliveries `email` has had so far.
    pub fn count_for(&self, email: &str) -> usize {
        self.deliveries_for(email).len()
    }

    /// Waits (up to `timeout`) until `email` has had more than `seen` deliveries and returns
    /// the newest body. Record `count_for` before the request that sends the code.
    pub async fn wait_for(&self, email: &str, seen: usize, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let mine = self.deliveries_for(email);
            if mine.len() > seen {
                return mine.last().cloned().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "no OTP webhook delivery #{} for {email} within {timeout:?}; received: {:?}",
                seen + 1,
                self.deliveries()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `otp` of the newest delivery for `email` beyond the first `seen` ones.
    pub async fn otp_after(&self, email: &str, seen: usize) -> String {
        let body = self.wait_for(email, seen, DEFAULT_TIMEOUT).await;
        body["otp"]
            .as_str()
            .unwrap_or_else(|| panic!("webhook body without a string otp: {body}"))
            .to_string()
    }

    /// The latest OTP delivered for `email`, waiting (up to the default timeout) for a first one.
    pub async fn latest_otp(&self, email: &str) -> String {
        self.otp_after(email, 0).await
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}
