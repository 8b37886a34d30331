//! Invoices: create one for a contact, send it.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{ConfirmOpt, ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Invoices;

#[derive(Deserialize, JsonSchema)]
struct Item {
    name: String,
    /// Unit price
    amount: f64,
    qty: Option<f64>,
    description: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Create {
    contact_id: String,
    contact_name: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    name: String,
    items: Vec<Item>,
    /// Default USD
    currency: Option<String>,
    /// YYYY-MM-DD
    issue_date: String,
    /// YYYY-MM-DD
    due_date: Option<String>,
    business_name: Option<String>,
    /// Real payments (default: test mode)
    live_mode: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Send {
    invoice_id: String,
    /// Sending user's id
    user_id: String,
    /// email (default), sms, sms_and_email, send_manually
    action: Option<String>,
    live_mode: Option<bool>,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct List {
    contact_id: Option<String>,
    /// draft, sent, paid, void, partially_paid
    status: Option<String>,
    search: Option<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "list_invoices",
            "List invoices",
            Invoices,
            "invoices.list-invoices",
            "Invoices, optionally a contact's or by status.",
            |a: List| {
                let mut args = CallArgs::new().param("altType", "location");
                opt(&mut args, "contactId", a.contact_id);
                opt(&mut args, "status", a.status);
                opt(&mut args, "search", a.search);
                Ok(Plan::list("invoices.list-invoices", args))
            },
        ),
        curated(
            "create_invoice",
            "Create an invoice",
            Invoices,
            "invoices.create-invoice",
            "Draft an invoice for a contact (not sent; see send_invoice).",
            |a: Create| {
                let currency = a.currency.unwrap_or_else(|| "USD".into());
                let items: Vec<_> = a
                    .items
                    .into_iter()
                    .map(|i| {
                        let mut v = json!({"name": i.name, "amount": i.amount,
                            "qty": i.qty.unwrap_or(1.0), "currency": currency});
                        if let Some(d) = i.description {
                            v["description"] = json!(d);
                        }
                        v
                    })
                    .collect();
                let mut contact = json!({"id": a.contact_id, "name": a.contact_name});
                let mut sent_to = json!({});
                if let Some(e) = a.contact_email {
                    contact["email"] = json!(e);
                    sent_to["email"] = json!([e]);
                }
                if let Some(p) = a.contact_phone {
                    contact["phoneNo"] = json!(p);
                    sent_to["phoneNo"] = json!([p]);
                }
                let mut business = json!({});
                if let Some(b) = a.business_name {
                    business["name"] = json!(b);
                }
                let mut args = CallArgs::new()
                    .param("name", a.name)
                    .param("currency", currency)
                    .param("items", items)
                    .param("discount", json!({"value": 0, "type": "percentage"}))
                    .param("contactDetails", contact)
                    .param("sentTo", sent_to)
                    .param("businessDetails", business)
                    .param("issueDate", a.issue_date)
                    .param("liveMode", a.live_mode.unwrap_or(false));
                if let Some(d) = a.due_date {
                    args.set("dueDate", d);
                }
                Ok(Plan::call("invoices.create-invoice", args))
            },
        ),
        curated(
            "send_invoice",
            "Send an invoice",
            Invoices,
            "invoices.send-invoice",
            "Send an invoice to its contact. Asks the user first.",
            |a: Send| {
                Ok(Plan::call(
                    "invoices.send-invoice",
                    CallArgs::new()
                        .param("invoiceId", a.invoice_id)
                        .param("userId", a.user_id)
                        .param("action", a.action.unwrap_or_else(|| "email".into()))
                        .param("liveMode", a.live_mode.unwrap_or(false)),
                ))
            },
        ),
    ]
}
