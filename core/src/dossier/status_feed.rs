//! The portal's status feed: how a filed dossier's progress comes back to the phone. Pure and
//! I/O-free (the `portal_json` fuzz target feeds it).
//!
//! Owns: the JSON of `GET v1/dossiers/changes?since=<cursor>` ([`StatusFeedPage`], one
//! [`StatusChange`] per thing that happened to one of this device's dossiers, in `seq` order),
//! the statuses a dossier goes through at the portal ([`PortalStatus`]), what a supplement
//! request asks for ([`SupplementRequest`]) and what a fee asks for and records
//! ([`FeeNotice`], [`PaymentReceipt`]); and the bounds every answer is checked against before any
//! of it is stored ([`StatusFeedPage::parse`]). Does not own syncing or storing (`tracking`),
//! drawing a fee's VietQR (`fees`, with `crate::vietqr`), nor how the portal decides which
//! dossiers a token sees (one device key's; the sandbox shows how).
//!
//! The feed is a delta: the phone sends the cursor of the last page it stored and
//! `If-None-Match` with that page's `ETag`; the portal answers `304` when nothing changed, or the
//! changes after the cursor, oldest first, with `more` while there are others. Each change
//! carries the dossier's whole tracking state after it (status, the open supplement request, the
//! fee), so a phone that missed nothing is never needed: the last change of a dossier is its
//! state, and every change is one line of its timeline. It is authenticated by the bearer token
//! the portal returned with the device's receipts ([`super::manifest::SubmitResponse`]).

use serde::{Deserialize, Serialize};

use super::manifest::{is_dossier_id, is_portal_id};

/// Where the feed is, below the portal's base URL.
pub const CHANGES_PATH: &str = "v1/dossiers/changes";
/// The largest feed page accepted.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;
/// The most changes one page may carry.
pub const MAX_CHANGES: usize = 500;
/// The most items one supplement request may ask for.
pub const MAX_SUPPLEMENT_ITEMS: usize = 32;
/// The longest free text (a reason, a label), in characters.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// A dossier's status at the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalStatus {
    /// Filed and acknowledged with a receipt code.
    Received,
    /// A clerk is working on it.
    Processing,
    /// The agency needs more from the citizen: see the change's `supplement`.
    SupplementRequested,
    /// The result (a certificate, a licence) is ready; a fee may be owed before it is handed
    /// over.
    ResultReady,
    /// Done: the result was handed over.
    Completed,
    /// Refused; the change's `reason` says why.
    Rejected,
    /// Withdrawn at the citizen's request.
    Withdrawn,
}

impl PortalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Processing => "processing",
            Self::SupplementRequested => "supplement_requested",
            Self::ResultReady => "result_ready",
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "received" => Self::Received,
            "processing" => Self::Processing,
            "supplement_requested" => Self::SupplementRequested,
            "result_ready" => Self::ResultReady,
            "completed" => Self::Completed,
            "rejected" => Self::Rejected,
            "withdrawn" => Self::Withdrawn,
            _ => return None,
        })
    }

    /// Nothing follows a final status: no supplement, no withdrawal.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Rejected | Self::Withdrawn)
    }
}

/// What the agency asks for, one item at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SupplementItem {
    /// A form field filled in again (or for the first time): `field_id` is one of the
    /// procedure's fields.
    Field { field_id: String, label: String },
    /// A document of one of the procedure's attachment kinds.
    Attachment {
        attachment_kind: String,
        label: String,
    },
}

impl SupplementItem {
    pub fn label(&self) -> &str {
        match self {
            Self::Field { label, .. } | Self::Attachment { label, .. } => label,
        }
    }
}

/// An open supplement request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequest {
    /// The portal's id of the request; a supplement manifest names it.
    pub request_id: String,
    /// Why the agency asks (Vietnamese free text from the clerk).
    pub reason: String,
    pub items: Vec<SupplementItem>,
    /// When the agency stops waiting (Unix seconds), if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
}

/// Who a fee is paid to: a NAPAS account, as field 38 of a VietQR.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payee {
    /// The bank's six-digit BIN.
    pub bank_bin: String,
    pub account: String,
    /// The account holder (the agency's collection account), as a bank app shows it.
    pub name: String,
}

impl std::fmt::Debug for Payee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payee")
            .field("bank_bin", &self.bank_bin)
            .finish_non_exhaustive()
    }
}

/// Whether a fee is still owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeState {
    Due,
    Paid,
}

impl FeeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "due" => Some(Self::Due),
            "paid" => Some(Self::Paid),
            _ => None,
        }
    }
}

/// The bank's confirmation of a paid fee, as the portal relays it: what the citizen keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReceipt {
    /// The bank's transaction reference.
    pub transaction_id: String,
    /// In đồng.
    pub amount: u64,
    pub paid_at: i64,
}

/// A fee a dossier owes (or owed): the payment request the phone turns into a VietQR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeNotice {
    /// The portal's id of the fee.
    pub fee_id: String,
    /// What it is for (Vietnamese).
    pub label: String,
    /// In đồng; never zero.
    pub amount: u64,
    pub payee: Payee,
    /// What the transfer note must say for the payment to be matched: the receipt code.
    pub reference: String,
    pub state: FeeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// Present once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentReceipt>,
}

/// One thing that happened to one dossier, and its tracking state after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The feed's order; strictly increasing within a page and across pages.
    pub seq: u64,
    /// The dossier (its manifest's `jti`).
    pub dossier_id: String,
    pub receipt_code: String,
    /// What happened, as a machine code for the timeline: `received`, `processing`,
    /// `supplement_requested`, `supplement_received`, `fee_requested`, `fee_paid`,
    /// `result_ready`, `completed`, `rejected`, `withdrawal_requested`, `withdrawn`, or a code
    /// a newer portal adds (kept and shown as it is).
    pub event: String,
    /// The dossier's status after it. A status this SDK does not know makes the change
    /// unreadable (`None` after [`StatusFeedPage::parse`]): it is skipped, the cursor still
    /// moves past it.
    #[serde(
        default,
        deserialize_with = "lenient_status",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<PortalStatus>,
    /// When it happened (Unix seconds).
    pub at: i64,
    /// The agency's explanation (a rejection's reason, a clerk's note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The open supplement request; present exactly when `status` is `supplement_requested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement: Option<SupplementRequest>,
    /// The dossier's fee, once the portal asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<FeeNotice>,
}

fn lenient_status<'de, D>(deserializer: D) -> Result<Option<PortalStatus>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    Ok(PortalStatus::parse(&text))
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusFeedPage {
    pub changes: Vec<StatusChange>,
    /// Where the next request starts (`since`); opaque to the phone.
    pub cursor: String,
    /// More changes wait after this page.
    #[serde(default)]
    pub more: bool,
}

/// Why a feed page was refused. Names the member, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the status feed's answer is not acceptable: {0}")]
pub struct InvalidStatusFeed(pub &'static str);

impl StatusFeedPage {
    /// Reads and checks a page: bounded, every id in its format, `seq` strictly increasing, a
    /// supplement request exactly with status `supplement_requested`, fees non-zero with a
    /// well-formed payee. `after_seq`: the highest `seq` already stored (a page must not go
    /// back).
    pub fn parse(body: &[u8], after_seq: Option<u64>) -> Result<Self, InvalidStatusFeed> {
        if body.len() > MAX_PAGE_BYTES {
            return Err(InvalidStatusFeed("size"));
        }
        let page: StatusFeedPage =
            serde_json::from_slice(body).map_err(|_| InvalidStatusFeed("json"))?;
        page.check(after_seq)?;
        Ok(page)
    }

    pub fn check(&self, after_seq: Option<u64>) -> Result<(), InvalidStatusFeed> {
        if self.cursor.is_empty()
            || self.cursor.len() > 128
            || !self.cursor.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(InvalidStatusFeed("cursor"));
        }
        if self.changes.len() > MAX_CHANGES {
            return Err(InvalidStatusFeed("changes"));
        }
        let mut last = after_seq;
        for change in &self.changes {
            if last.is_some_and(|last| change.seq <= last) {
                return Err(InvalidStatusFeed("seq"));
            }
            last = Some(change.seq);
            change.check()?;
        }
        Ok(())
    }
}

impl StatusChange {
    fn check(&self) -> Result<(), InvalidStatusFeed> {
        if !is_dossier_id(&self.dossier_id) {
            return Err(InvalidStatusFeed("dossier_id"));
        }
        if !is_portal_id(&self.receipt_code) {
            return Err(InvalidStatusFeed("receipt_code"));
        }
        if !is_code(&self.event) {
            return Err(InvalidStatusFeed("event"));
        }
        if self.at <= 0 {
            return Err(InvalidStatusFeed("at"));
        }
        if !self.reason.as_deref().is_none_or(is_text) {
            return Err(InvalidStatusFeed("reason"));
        }
        let asks = self.status == Some(PortalStatus::SupplementRequested);
        match &self.supplement {
            Some(request) if asks => request.check()?,
            None if !asks => {}
            _ => return Err(InvalidStatusFeed("supplement")),
        }
        if let Some(fee) = &self.fee {
            fee.check()?;
        }
        Ok(())
    }
}

impl SupplementRequest {
    fn check(&self) -> Result<(), InvalidStatusFeed> {
        if !is_portal_id(&self.request_id) {
            return Err(InvalidStatusFeed("supplement.request_id"));
        }
        if !is_text(&self.reason) {
            return Err(InvalidStatusFeed("supplement.reason"));
        }
        if self.items.is_empty() || self.items.len() > MAX_SUPPLEMENT_ITEMS {
            return Err(InvalidStatusFeed("supplement.items"));
        }
        for item in &self.items {
            let target = match item {
                SupplementItem::Field { field_id, .. } => field_id,
                SupplementItem::Attachment {
                    attachment_kind, ..
                } => attachment_kind,
            };
            if !is_code(target) || !is_text(item.label()) {
                return Err(InvalidStatusFeed("supplement.items"));
            }
        }
        Ok(())
    }
}

impl FeeNotice {
    fn check(&self) -> Result<(), InvalidStatusFeed> {
        if !is_portal_id(&self.fee_id) {
            return Err(InvalidStatusFeed("fee.fee_id"));
        }
        if !is_text(&self.label) || self.label.is_empty() {
            return Err(InvalidStatusFeed("fee.label"));
        }
        // 13 digits is the most a VietQR amount (field 54) holds.
        if self.amount == 0 || self.amount > 9_999_999_999_999 {
            return Err(InvalidStatusFeed("fee.amount"));
        }
        let payee = &self.payee;
        if payee.bank_bin.len() != 6 || !payee.bank_bin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidStatusFeed("fee.payee"));
        }
        if payee.account.is_empty()
            || payee.account.len() > 19
            || !payee.account.bytes().all(|b| b.is_ascii_alphanumeric())
            || !is_text(&payee.name)
        {
            return Err(InvalidStatusFeed("fee.payee"));
        }
        if !is_portal_id(&self.reference) || self.reference.len() > 25 {
            return Err(InvalidStatusFeed("fee.reference"));
        }
        match (&self.state, &self.payment) {
            (FeeState::Due, None) => {}
            (FeeState::Paid, Some(payment)) => {
                if !is_portal_id(&payment.transaction_id) || payment.paid_at <= 0 {
                    return Err(InvalidStatusFeed("fee.payment"));
                }
            }
            _ => return Err(InvalidStatusFeed("fee.payment")),
        }
        Ok(())
    }
}

/// A machine code: 1 to 64 of `[a-z0-9_]`.
fn is_code(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Free text from the portal: bounded, no control characters.
fn is_text(text: &str) -> bool {
    text.chars().count() <= MAX_TEXT_CHARS && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOSSIER: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn change(seq: u64, status: &str) -> serde_json::Value {
        json!({
            "seq": seq, "dossier_id": DOSSIER, "receipt_code": "HS-2026-000001",
            "event": status, "status": status, "at": 1_790_000_000
        })
    }

    fn page(changes: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({"changes": changes, "cursor": "7", "more": false})).unwrap()
    }

    fn fee(state: &str) -> serde_json::Value {
        let mut fee = json!({
            "fee_id": "FEE-1", "label": "Lệ phí", "amount": 50_000,
            "payee": {"bank_bin": "970403", "account": "113366668888", "name": "KHO BAC"},
            "reference": "HS-2026-000001", "state": state
        });
        if state == "paid" {
            fee["payment"] = json!({"transaction_id": "FT26330", "amount": 50_000, "paid_at": 5});
        }
        fee
    }

    #[test]
    fn a_page_reads_with_its_supplement_and_fee() {
        let mut asked = change(2, "supplement_requested");
        asked["supplement"] = json!({
            "request_id": "SR-1", "reason": "Thiếu bản sao",
            "items": [
                {"kind": "attachment", "attachment_kind": "giay_chung_sinh", "label": "Giấy chứng sinh"},
                {"kind": "field", "field_id": "noi_sinh", "label": "Nơi sinh"}
            ]
        });
        let mut ready = change(3, "result_ready");
        ready["fee"] = fee("due");
        let parsed =
            StatusFeedPage::parse(&page(vec![change(1, "processing"), asked, ready]), None)
                .unwrap();
        assert_eq!(parsed.changes.len(), 3);
        assert_eq!(
            parsed.changes[1].supplement.as_ref().unwrap().items[1],
            SupplementItem::Field {
                field_id: "noi_sinh".into(),
                label: "Nơi sinh".into()
            }
        );
        assert_eq!(parsed.changes[2].fee.as_ref().unwrap().state, FeeState::Due);
    }

    #[test]
    fn an_unknown_status_is_read_as_none_and_an_unknown_event_kept() {
        let mut later = change(1, "archived");
        later["event"] = json!("archived");
        let parsed = StatusFeedPage::parse(&page(vec![later]), None).unwrap();
        assert_eq!(parsed.changes[0].status, None);
        assert_eq!(parsed.changes[0].event, "archived");
    }

    #[test]
    fn broken_pages_are_refused_by_member() {
        let refuse = |changes: Vec<serde_json::Value>, after: Option<u64>| {
            StatusFeedPage::parse(&page(changes), after).unwrap_err().0
        };
        assert_eq!(
            refuse(vec![change(2, "processing"), change(2, "completed")], None),
            "seq"
        );
        assert_eq!(refuse(vec![change(5, "processing")], Some(5)), "seq");
        let mut bad = change(1, "processing");
        bad["dossier_id"] = json!("short");
        assert_eq!(refuse(vec![bad], None), "dossier_id");
        let mut bad = change(1, "processing");
        bad["receipt_code"] = json!("HS 1/2");
        assert_eq!(refuse(vec![bad], None), "receipt_code");
        // A supplement request without the status, and the status without a request.
        let mut bad = change(1, "processing");
        bad["supplement"] = json!({"request_id": "SR-1", "reason": "x", "items": [
            {"kind": "field", "field_id": "a", "label": "A"}]});
        assert_eq!(refuse(vec![bad], None), "supplement");
        assert_eq!(
            refuse(vec![change(1, "supplement_requested")], None),
            "supplement"
        );
        // Fees: zero, paid without a receipt, a payee that is not a NAPAS account.
        let mut bad = change(1, "result_ready");
        bad["fee"] = fee("due");
        bad["fee"]["amount"] = json!(0);
        assert_eq!(refuse(vec![bad], None), "fee.amount");
        let mut bad = change(1, "result_ready");
        bad["fee"] = fee("due");
        bad["fee"]["state"] = json!("paid");
        assert_eq!(refuse(vec![bad], None), "fee.payment");
        let mut bad = change(1, "result_ready");
        bad["fee"] = fee("paid");
        bad["fee"]["payee"]["bank_bin"] = json!("97040");
        assert_eq!(refuse(vec![bad], None), "fee.payee");
        let mut bad = change(1, "rejected");
        bad["reason"] = json!("line\nbreak");
        assert_eq!(refuse(vec![bad], None), "reason");
        assert_eq!(
            StatusFeedPage::parse(&vec![b' '; MAX_PAGE_BYTES + 1], None)
                .unwrap_err()
                .0,
            "size"
        );
        assert_eq!(StatusFeedPage::parse(b"{", None).unwrap_err().0, "json");
    }

    #[test]
    fn debug_hides_the_payee_account() {
        let notice: FeeNotice = serde_json::from_value(fee("due")).unwrap();
        let text = format!("{notice:?}");
        assert!(!text.contains("113366668888"), "{text}");
    }
}
