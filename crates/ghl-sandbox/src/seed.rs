//! Database initialisation and the deterministic demo account.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{Value, json};

use crate::contact_store as cs;
use crate::ids::{id_from, iso};
use crate::routes::{calendars_default, invoice_new, price_new, product_new};
use crate::store::{doc_list, doc_put, meta_get, meta_set};
use crate::{DEFAULT_TOKEN, DEMO_LOCATION_ID, Seed, auth};

/// Create the location and default token, and seed the demo data, unless the
/// database was initialised already. Runs in one IMMEDIATE transaction so two
/// processes starting on a new file cannot both seed it.
pub fn init(conn: &mut Connection, seed: Seed) -> Result<(), crate::SandboxError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if meta_get(&tx, "initialized")?.is_none() {
        auth::insert(&tx, DEFAULT_TOKEN, DEMO_LOCATION_ID, None)?;
        location(&tx)?;
        if seed == Seed::Demo {
            demo(&tx)?;
        }
        meta_set(
            &tx,
            "initialized",
            if seed == Seed::Demo { "demo" } else { "empty" },
        )?;
    }
    tx.commit()?;
    Ok(())
}

const LOC: &str = DEMO_LOCATION_ID;

fn location(c: &Connection) -> rusqlite::Result<()> {
    doc_put(
        c,
        "locations",
        LOC,
        Some(LOC),
        None,
        &json!({
            "id": LOC, "companyId": "SbxDemoCompany0000001", "name": "Sandbox Demo Agency",
            "domain": "", "address": "100 Main Street", "city": "Brooklyn", "state": "NY", "country": "US",
            "postalCode": "11201", "website": "https://demo.example.com", "timezone": "America/New_York",
            "firstName": "Sam", "lastName": "Sandbox", "email": "owner@demo.example.com", "phone": "+17185550100",
            "business": {"name": "Sandbox Demo Agency", "address": "100 Main Street", "city": "Brooklyn",
                "state": "NY", "country": "US", "postalCode": "11201", "website": "https://demo.example.com",
                "timezone": "America/New_York", "logoUrl": ""},
            "social": {}, "settings": {"allowDuplicateContact": false, "allowDuplicateOpportunity": false,
                "allowFacebookNameMerge": false, "disableContactTimezone": false},
        }),
    )
}

const FIRST: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Steven",
    "Ashley",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
];
const LAST: [&str; 30] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
];
const COMPANIES: [&str; 15] = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent Foods",
    "Cyberdyne Systems",
    "Wonka Sweets",
    "Pied Piper",
    "Gringotts Finance",
    "Bluth Company",
    "Dunder Mifflin",
];
const TAGS: [&str; 8] = [
    "lead",
    "customer",
    "vip",
    "newsletter",
    "webinar",
    "referral",
    "cold",
    "follow-up",
];
const SOURCES: [&str; 5] = [
    "Google Ads",
    "Facebook",
    "Referral",
    "Website",
    "Trade Show",
];

fn pick<'a, R: Rng>(rng: &mut R, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

fn ago(rng: &mut StdRng, max_days: i64) -> String {
    let now = time::OffsetDateTime::now_utc();
    iso(now - time::Duration::seconds(rng.random_range(0..max_days * 86_400)))
}

fn demo(c: &Connection) -> rusqlite::Result<()> {
    let mut rng = StdRng::seed_from_u64(0x6_41_5b_0c);
    let r = &mut rng;

    // Custom fields, custom values, tags.
    let fields = [
        ("Lead Source", "lead_source", "SINGLE_OPTIONS"),
        ("Budget", "budget", "MONETORY"),
        ("Industry", "industry", "TEXT"),
        (
            "Preferred Contact Method",
            "preferred_contact_method",
            "SINGLE_OPTIONS",
        ),
        ("Last Purchase Date", "last_purchase_date", "DATE"),
        ("Company Size", "company_size", "NUMERICAL"),
    ];
    let mut field_ids = Vec::new();
    for (i, (name, key, ty)) in fields.iter().enumerate() {
        let id = id_from(r);
        let mut f = json!({"id": id, "name": name, "fieldKey": format!("contact.{key}"), "dataType": ty,
            "placeholder": "", "position": i * 50, "model": "contact", "locationId": LOC});
        if *key == "lead_source" {
            f["picklistOptions"] = json!(SOURCES);
        }
        if *key == "preferred_contact_method" {
            f["picklistOptions"] = json!(["Email", "Phone", "SMS"]);
        }
        doc_put(c, "customFields", &id, Some(LOC), None, &f)?;
        field_ids.push(id);
    }
    for (name, value) in [
        ("Company Name", "Sandbox Demo Agency"),
        ("Support Email", "support@demo.example.com"),
        ("Booking Link", "https://demo.example.com/book"),
    ] {
        let id = id_from(r);
        let key = crate::routes::field_key_of(name);
        doc_put(
            c,
            "customValues",
            &id,
            Some(LOC),
            None,
            &json!({"id": id, "name": name,
            "fieldKey": format!("{{{{ custom_values.{key} }}}}"), "value": value, "locationId": LOC}),
        )?;
    }
    for t in TAGS {
        let id = id_from(r);
        doc_put(
            c,
            "tags",
            &id,
            Some(LOC),
            None,
            &json!({"id": id, "name": t, "locationId": LOC}),
        )?;
    }

    // Users.
    let mut users = Vec::new();
    for (first, last, role) in [
        ("Alex", "Admin", "admin"),
        ("Morgan", "Sales", "user"),
        ("Riley", "Support", "user"),
    ] {
        let id = id_from(r);
        let u = json!({"id": id, "name": format!("{first} {last}"), "firstName": first, "lastName": last,
            "email": format!("{}@demo.example.com", first.to_lowercase()), "phone": format!("+1718555{:04}", r.random_range(1000..9999)),
            "extension": "", "roles": {"type": "account", "role": role, "locationIds": [LOC]},
            "permissions": {"contactsEnabled": true, "opportunitiesEnabled": true, "appointmentsEnabled": true},
            "locationId": LOC, "deleted": false});
        doc_put(c, "users", &id, Some(LOC), None, &u)?;
        users.push(id);
    }

    // Contacts: three Janes first (searchable by name), then random people.
    let mut contacts = Vec::new();
    let named = [
        ("Jane", "Cooper", "Acme Corp"),
        ("Jane", "Doe", "Globex"),
        ("Jane", "Foster", "Stark Industries"),
    ];
    for i in 0..200 {
        let (first, last, company) = match named.get(i) {
            Some(n) => *n,
            None => (pick(r, &FIRST), pick(r, &LAST), pick(r, &COMPANIES)),
        };
        let id = id_from(r);
        let email = format!(
            "{}.{}{}@{}.example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            i,
            company.split(' ').next().unwrap_or("mail").to_lowercase()
        );
        let phone = format!(
            "+1{}555{:04}",
            [212, 312, 415, 646, 718][r.random_range(0..5)],
            1000 + i
        );
        let mut tags: Vec<&str> = (0..r.random_range(0..3)).map(|_| pick(r, &TAGS)).collect();
        tags.sort();
        tags.dedup();
        let mut cf = vec![json!({"id": field_ids[0], "value": pick(r, &SOURCES)})];
        if r.random_bool(0.5) {
            cf.push(json!({"id": field_ids[1], "value": r.random_range(5..200) * 100}));
        }
        let added = ago(r, 365);
        let mut ct = json!({
            "id": id, "locationId": LOC, "firstName": first, "lastName": last, "email": email, "phone": phone,
            "companyName": company, "tags": tags, "customFields": cf, "type": if tags.contains(&"customer") { "customer" } else { "lead" },
            "source": pick(r, &SOURCES), "dnd": i % 25 == 7, "dndSettings": {}, "deleted": false,
            "address1": format!("{} {} St", r.random_range(1..999), pick(r, &LAST)), "city": pick(r, &["New York", "Chicago", "San Francisco", "Austin", "Boston"]),
            "state": "", "country": "US", "postalCode": format!("{:05}", r.random_range(10000..99999)),
            "website": "", "timezone": "America/New_York", "assignedTo": users[i % users.len()],
            "dateAdded": added, "dateUpdated": added,
        });
        let full = format!("{first} {last}");
        ct["name"] = json!(full);
        ct["contactName"] = json!(full);
        ct["firstNameLowerCase"] = json!(first.to_lowercase());
        ct["lastNameLowerCase"] = json!(last.to_lowercase());
        ct["fullNameLowerCase"] = json!(full.to_lowercase());
        ct["emailLowerCase"] = json!(email);
        cs::put(c, &ct)?;
        contacts.push(ct);
    }

    // Pipelines, stages, opportunities in every stage.
    for (pname, stages) in [
        (
            "Sales Pipeline",
            &[
                "New Lead",
                "Contacted",
                "Proposal Sent",
                "Negotiation",
                "Closed",
            ][..],
        ),
        ("Onboarding", &["Kickoff", "Setup", "Training", "Live"][..]),
    ] {
        let pid = id_from(r);
        let stage_docs: Vec<Value> = stages.iter().enumerate()
            .map(|(i, s)| json!({"id": id_from(r), "name": s, "position": i, "showInFunnel": true, "showInPieChart": true}))
            .collect();
        doc_put(
            c,
            "pipelines",
            &pid,
            Some(LOC),
            None,
            &json!({"id": pid, "name": pname, "stages": stage_docs,
            "showInFunnel": true, "showInPieChart": true, "locationId": LOC}),
        )?;
        for st in &stage_docs {
            for _ in 0..4 {
                let ct = &contacts[r.random_range(0..contacts.len())];
                let id = id_from(r);
                let at = ago(r, 180);
                let status = ["open", "open", "open", "won", "lost"][r.random_range(0..5)];
                doc_put(
                    c,
                    "opportunities",
                    &id,
                    Some(LOC),
                    None,
                    &json!({
                        "id": id, "name": format!("{} - {}", ct["companyName"].as_str().unwrap_or(""), pname),
                        "monetaryValue": r.random_range(5..100) * 100, "pipelineId": pid, "pipelineStageId": st["id"],
                        "assignedTo": users[r.random_range(0..users.len())], "status": status, "source": "seed",
                        "lastStatusChangeAt": at, "lastStageChangeAt": at, "lastActionDate": at, "indexVersion": "1",
                        "createdAt": at, "updatedAt": at, "contactId": ct["id"], "locationId": LOC,
                        "contact": crate::routes::contact_summary_of(ct), "customFields": [], "followers": [],
                    }),
                )?;
            }
        }
    }

    // Calendars (Mon-Fri 9-17, 30-min slots) and appointments on coming weekdays.
    let mut cal_ids = Vec::new();
    for name in ["Discovery Call", "Onboarding Session"] {
        let id = id_from(r);
        let mut cal = calendars_default(LOC, &id, name);
        cal["teamMembers"] = json!([{"userId": users[1], "priority": 0.5, "isPrimary": true}]);
        doc_put(c, "calendars", &id, Some(LOC), None, &cal)?;
        cal_ids.push(id);
    }
    let today = time::OffsetDateTime::now_utc().date();
    let mut day = today;
    let mut booked = 0;
    while booked < 10 {
        day = day.next_day().unwrap_or(day);
        let dow = day.weekday().number_days_from_sunday();
        if !(1..=5).contains(&dow) {
            continue;
        }
        let cal = &cal_ids[booked % 2];
        let hour = 9 + (booked as i32 * 3) % 8;
        let start = crate::tz::local_to_utc_ms("America/New_York", day, hour * 60);
        let ct = &contacts[r.random_range(0..contacts.len())];
        let id = id_from(r);
        let to_iso = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                .map(iso)
                .unwrap_or_default()
        };
        doc_put(
            c,
            "appointments",
            &id,
            Some(LOC),
            Some(cal),
            &json!({
                "id": id, "calendarId": cal, "locationId": LOC, "contactId": ct["id"],
                "title": format!("Call with {}", ct["name"].as_str().unwrap_or("")), "appointmentStatus": "confirmed",
                "assignedUserId": users[1], "address": "", "groupId": "", "users": [users[1].clone()], "notes": "",
                "description": "", "isRecurring": false, "startTime": to_iso(start), "endTime": to_iso(start + 1_800_000),
                "dateAdded": ago(r, 10), "dateUpdated": ago(r, 5),
            }),
        )?;
        booked += 1;
    }

    // Conversations with message history.
    let bodies = [
        "Hi! Thanks for reaching out.",
        "Can we schedule a call this week?",
        "Sure, Tuesday works.",
        "Here is the proposal we discussed.",
        "Thanks, I'll review it today.",
        "Any update on the invoice?",
    ];
    for ct in contacts.iter().take(20) {
        let cid = id_from(r);
        let cv_id = cid.clone();
        let n = r.random_range(3..7);
        let base = time::OffsetDateTime::now_utc() - time::Duration::days(r.random_range(1..60));
        let mut last = json!({});
        let mut last_ms = 0;
        for k in 0..n {
            let mid = id_from(r);
            let at = base + time::Duration::minutes(k * 37);
            let dir = if k % 2 == 0 { "inbound" } else { "outbound" };
            let body = bodies[(k as usize) % bodies.len()];
            let m = json!({"id": mid, "type": 2, "messageType": "TYPE_SMS", "locationId": LOC, "contactId": ct["id"],
                "conversationId": cv_id, "dateAdded": iso(at), "body": body, "direction": dir, "status": "delivered",
                "contentType": "text/plain", "attachments": [], "source": "app", "meta": {}});
            doc_put(c, "messages", &mid, Some(LOC), Some(&cv_id), &m)?;
            last = m;
            last_ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
        }
        doc_put(
            c,
            "conversations",
            &cv_id,
            Some(LOC),
            None,
            &json!({
                "id": cv_id, "contactId": ct["id"], "locationId": LOC, "deleted": false, "inbox": true, "type": 1,
                "unreadCount": if last["direction"] == "inbound" { 1 } else { 0 }, "starred": false, "assignedTo": users[2],
                "fullName": ct["name"], "contactName": ct["name"], "email": ct["email"], "phone": ct["phone"],
                "lastMessageBody": last["body"], "lastMessageType": "TYPE_SMS", "lastMessageDirection": last["direction"],
                "lastMessageDate": last_ms, "dateAdded": last_ms, "dateUpdated": last_ms,
            }),
        )?;
    }

    // Workflows, campaigns, forms and submissions.
    for (name, status) in [
        ("New Lead Nurture", "published"),
        ("Appointment Reminder", "published"),
        ("Win-back", "draft"),
        ("Invoice Follow-up", "published"),
    ] {
        let id = id_from(r);
        let at = ago(r, 300);
        doc_put(
            c,
            "workflows",
            &id,
            Some(LOC),
            None,
            &json!({"id": id, "name": name, "status": status, "version": 2,
            "createdAt": at, "updatedAt": at, "locationId": LOC}),
        )?;
    }
    for (name, status) in [
        ("Spring Promo", "published"),
        ("Webinar Invite", "published"),
        ("Re-engagement", "draft"),
    ] {
        let id = id_from(r);
        doc_put(
            c,
            "campaigns",
            &id,
            Some(LOC),
            None,
            &json!({"id": id, "name": name, "status": status, "locationId": LOC}),
        )?;
    }
    for name in ["Contact Us", "Free Consultation", "Newsletter Signup"] {
        let fid = id_from(r);
        doc_put(
            c,
            "forms",
            &fid,
            Some(LOC),
            None,
            &json!({"id": fid, "name": name, "locationId": LOC}),
        )?;
        for _ in 0..8 {
            let ct = &contacts[r.random_range(0..contacts.len())];
            let sid = id_from(r);
            doc_put(
                c,
                "formSubmissions",
                &sid,
                Some(LOC),
                Some(&fid),
                &json!({"id": sid, "contactId": ct["id"],
                "createdAt": ago(r, 120), "formId": fid, "name": ct["name"], "email": ct["email"],
                "others": {"phone": ct["phone"], "message": "Please get in touch."}}),
            )?;
        }
    }

    // Products with prices.
    for (name, amount, kind) in [
        ("Starter Plan", 49.0, "recurring"),
        ("Growth Plan", 149.0, "recurring"),
        ("Strategy Session", 250.0, "one_time"),
        ("Website Audit", 499.0, "one_time"),
        ("Ad Management", 999.0, "recurring"),
        ("Branding Kit", 1200.0, "one_time"),
    ] {
        let pid = id_from(r);
        let p = product_new(
            LOC,
            &pid,
            &json!({"name": name, "productType": if kind == "recurring" { "SERVICE" } else { "DIGITAL" },
            "description": format!("{name} from the demo catalog"), "availableInStore": true}),
        );
        doc_put(c, "products", &pid, Some(LOC), None, &p)?;
        let prid = id_from(r);
        let mut body = json!({"name": format!("{name} price"), "type": kind, "currency": "USD", "amount": amount});
        if kind == "recurring" {
            body["recurring"] = json!({"interval": "month", "intervalCount": 1});
        }
        doc_put(
            c,
            "prices",
            &prid,
            Some(LOC),
            Some(&pid),
            &price_new(LOC, &pid, &prid, &body),
        )?;
    }

    // Invoices in various statuses.
    for (k, status) in [
        "draft",
        "draft",
        "sent",
        "sent",
        "paid",
        "partially_paid",
        "void",
        "sent",
    ]
    .iter()
    .enumerate()
    {
        let ct = &contacts[k * 7];
        let id = id_from(r);
        let amount = (r.random_range(2..40) * 50) as f64;
        let mut inv = invoice_new(
            LOC,
            &id,
            1001 + k as i64,
            &json!({
                "name": format!("Invoice for {}", ct["name"].as_str().unwrap_or("")),
                "businessDetails": {"name": "Sandbox Demo Agency"},
                "contactDetails": {"id": ct["id"], "name": ct["name"], "email": ct["email"], "phoneNo": ct["phone"]},
                "items": [{"name": "Consulting", "amount": amount, "qty": 1, "currency": "USD"}],
                "discount": {"type": "percentage", "value": 0},
            }),
        );
        inv["status"] = json!(status);
        let total = inv["total"].as_f64().unwrap_or(0.0);
        match *status {
            "paid" => inv["amountPaid"] = json!(total),
            "partially_paid" => inv["amountPaid"] = json!((total / 2.0).round()),
            _ => {}
        }
        crate::routes::invoice_recompute(&mut inv);
        doc_put(c, "invoices", &id, Some(LOC), None, &inv)?;
    }

    // Courses.
    for (title, lessons) in [
        ("Getting Started with the CRM", 6),
        ("Advanced Automation", 9),
    ] {
        let id = id_from(r);
        doc_put(
            c,
            "courses",
            &id,
            Some(LOC),
            None,
            &json!({"id": id, "title": title, "lessons": lessons,
            "locationId": LOC, "published": true}),
        )?;
    }
    Ok(())
}

/// Bulk insert for benchmarks: `n` synthetic contacts in one transaction.
pub fn bulk_contacts(conn: &mut Connection, loc: &str, n: usize) -> rusqlite::Result<()> {
    bulk_contacts_seeded(conn, loc, n, n as u64)
}

/// [`bulk_contacts`] with ids drawn from `seed`: locations filled with
/// different seeds get different contact ids.
pub fn bulk_contacts_seeded(
    conn: &mut Connection,
    loc: &str,
    n: usize,
    seed: u64,
) -> rusqlite::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let base = time::OffsetDateTime::now_utc();
    for i in 0..n {
        let first = pick(&mut rng, &FIRST);
        let last = pick(&mut rng, &LAST);
        let id = id_from(&mut rng);
        let added = iso(base - time::Duration::seconds(rng.random_range(0..365 * 86_400)));
        let full = format!("{first} {last}");
        let email = format!(
            "{}.{}.{i}@bulk.example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let ct = json!({
            "id": id, "locationId": loc, "firstName": first, "lastName": last, "name": full,
            "email": email, "emailLowerCase": email, "phone": format!("+1646{:07}", i % 10_000_000),
            "companyName": pick(&mut rng, &COMPANIES), "tags": [pick(&mut rng, &TAGS)], "customFields": [],
            "type": "lead", "source": "bulk", "dnd": false, "dndSettings": {}, "dateAdded": added, "dateUpdated": added,
            "firstNameLowerCase": first.to_lowercase(), "lastNameLowerCase": last.to_lowercase(),
            "fullNameLowerCase": full.to_lowercase(),
        });
        cs::put(&tx, &ct)?;
    }
    tx.commit()
}

/// Bulk insert for tests and benchmarks: `n` open opportunities spread
/// over the location's first pipeline and its contacts, in one transaction.
pub fn bulk_opportunities(conn: &mut Connection, loc: &str, n: usize) -> rusqlite::Result<()> {
    let mut rng = StdRng::seed_from_u64(n as u64 ^ 0x5eed_0dd5);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let pipeline = doc_list(&tx, "pipelines", Some(loc), None)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let stages: Vec<String> = pipeline["stages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let contacts: Vec<Value> = tx
        .prepare("SELECT data FROM contacts WHERE location_id = ?1 ORDER BY id LIMIT 1000")?
        .query_map([loc], |r| r.get::<_, String>(0))?
        .filter_map(|d| d.ok().and_then(|d| serde_json::from_str(&d).ok()))
        .collect();
    let base = time::OffsetDateTime::now_utc();
    for i in 0..n {
        let id = id_from(&mut rng);
        let at = iso(base - time::Duration::seconds(rng.random_range(0..365 * 86_400)));
        let stage = stages
            .get(i % stages.len().max(1))
            .cloned()
            .unwrap_or_default();
        let contact = contacts
            .get(i % contacts.len().max(1))
            .cloned()
            .unwrap_or_default();
        let summary = crate::routes::contact_summary_of(&contact);
        doc_put(
            &tx,
            "opportunities",
            &id,
            Some(loc),
            None,
            &json!({
                "id": id, "name": format!("Bulk deal {i}"), "monetaryValue": (i % 50) * 100,
                "pipelineId": pipeline["id"], "pipelineStageId": stage, "assignedTo": "",
                "status": "open", "source": "bulk", "lastStatusChangeAt": at, "lastStageChangeAt": at,
                "lastActionDate": at, "indexVersion": "1", "createdAt": at, "updatedAt": at,
                "contactId": contact["id"], "locationId": loc, "contact": summary,
                "customFields": [], "followers": [],
            }),
        )?;
    }
    tx.commit()
}
