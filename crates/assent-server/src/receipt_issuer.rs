//! Receipts: issuing one for every approved approval, and
//! checking one for the verify and redeem endpoints.

use std::sync::Arc;
use std::time::Duration;

use assent_domain::Approval;
use assent_domain::jose::CompactJws;
use assent_domain::receipt::{self, ReceiptClaims, ReceiptInvalid};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::signer::{Signer, verify_ed25519};

pub struct Receipts {
    signer: Arc<Signer>,
    issuer: String,
    ttl: Duration,
}

impl Receipts {
    pub fn new(signer: Arc<Signer>, issuer: &str, ttl: Duration) -> Receipts {
        Receipts {
            signer,
            issuer: issuer.to_owned(),
            ttl,
        }
    }

    /// The receipt of an approved approval; `None` for any other. The same
    /// approval always gets the same receipt (Ed25519 is deterministic).
    pub fn issue(&self, approval: &Approval) -> Option<String> {
        let claims = ReceiptClaims::for_approval(approval, &self.issuer, self.ttl)?;
        let payload = serde_json::to_vec(&claims).ok()?;
        let input = CompactJws::signing_input(&receipt::header(self.signer.kid()), &payload);
        Some(CompactJws::assemble(
            &input,
            &self.signer.sign(input.as_bytes()),
        ))
    }

    /// Sets the approval's `receipt`: how every approval leaves the gateway.
    pub fn attach(&self, approval: &mut Approval) {
        approval.receipt = self.issue(approval);
    }

    pub fn verify(
        &self,
        receipt: &str,
        action: &str,
        args: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<ReceiptClaims, ReceiptInvalid> {
        receipt::verify(
            receipt,
            self.signer.jwks(),
            action,
            args,
            now,
            verify_ed25519,
        )
    }
}
