//! Delivery of email/SMS one-time codes: Better Auth calls the app's `otpOptions.sendOTP`
//! (better-auth: dist/plugins/two-factor/otp/index.mjs); Portcullis POSTs
//! `{"email","userId","otp","type":"two-factor"}` to `PORTCULLIS_OTP_WEBHOOK_URL`. Delivery runs in
//! the background with brief retries; failures are logged (without the code) and never reach the
//! client, so the answer does not depend on whether delivery worked.

use std::time::Duration;

use portcullis_entity::user;
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    email: String,
    user_id: String,
    otp: String,
    r#type: &'static str,
}

const ATTEMPTS: u32 = 3;

pub fn send_otp(state: &AppState, user: &user::Model, otp: &str) {
    let tf = &state.config.two_factor;
    if tf.otp_log {
        tracing::info!(user_id = %user.id, otp, "development mode: two-factor OTP");
    }
    let Some(url) = tf.otp_webhook_url.clone() else {
        return;
    };
    let client = state.http.clone();
    let payload = Payload {
        email: user.email.clone(),
        user_id: user.id.clone(),
        otp: otp.to_owned(),
        r#type: "two-factor",
    };
    tokio::spawn(async move {
        for attempt in 0..ATTEMPTS {
            let sent = client
                .post(&url)
                .timeout(Duration::from_secs(5))
                .json(&payload)
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_success() => return,
                Ok(res) => {
                    tracing::warn!(status = %res.status(), attempt, "OTP webhook refused the code")
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), attempt, "OTP webhook unreachable")
                }
            }
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        tracing::error!(user_id = %payload.user_id, "OTP delivery failed after {ATTEMPTS} attempts");
    });
}
