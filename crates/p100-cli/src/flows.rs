//! The hand-written commands that do more than one call, on the ergonomic client:
//! `p100 exchange` (lock, check, execute, wait), `p100 send sepa|crypto|transfer` (create, wait)
//! and `p100 wait <kind> <id>`; and how each ending becomes an exit code ([`Outcome`]).
//!
//! Waiting shows a spinner with the status and the elapsed time on a terminal (stderr), and one
//! plain line per status change otherwise; the final record goes to stdout. An execute or create
//! whose outcome is unknown is never sent again: the command says what to reconcile and exits 3.

use std::fmt::Display;
use std::time::Duration;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use p100_ergonomic::reconcile::UnknownMovement;
use p100_ergonomic::types;
use p100_ergonomic::{
    Amount, Client, Currency, Error, ErrorKind, LockError, StatusClass, WaitError, WaitPolicy,
    Waitable, Waiter,
};
use serde::Serialize;

use crate::output::{render, Format};

/// The exit codes a script can rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Succeeded (or, without `--wait`, accepted).
    Succeeded = 0,
    /// Ended in a failed final state (or the quote was refused: nothing was executed).
    Failed = 1,
    /// Usage or configuration error; nothing was sent.
    Usage = 2,
    /// Unknown outcome: money may have moved; reconcile before retrying.
    Unknown = 3,
    /// Timed out waiting; the movement is still in flight.
    TimedOut = 4,
    /// An API error (P100 refused, or a call failed).
    Api = 5,
}

/// How a command ended: an exit code and what to say on stderr (nothing for success).
#[derive(Debug)]
pub struct Outcome {
    /// The exit code.
    pub exit: Exit,
    /// Lines for stderr.
    pub message: Option<String>,
}

impl Outcome {
    /// Success, nothing more to say.
    pub fn ok() -> Self {
        Outcome {
            exit: Exit::Succeeded,
            message: None,
        }
    }

    /// `exit`, saying `message`.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Outcome {
            exit,
            message: Some(message.into()),
        }
    }

    /// The outcome of a failed call of the SDK.
    pub fn of_error(error: &Error) -> Self {
        if let Some(movement) = error.unknown_movement() {
            return Outcome::new(Exit::Unknown, unknown_movement(error, movement));
        }
        match error.kind() {
            ErrorKind::Config | ErrorKind::InvalidRequest | ErrorKind::InvalidUpload => {
                Outcome::new(Exit::Usage, format!("error: {error}"))
            }
            // A read or a lock changes nothing, whatever its answer.
            _ if error.may_have_executed() && !safe_to_repeat(error) => Outcome::new(
                Exit::Unknown,
                format!(
                    "error: {error}\nthe outcome is unknown: it may have been executed; it was \
                     not sent again. Check before retrying."
                ),
            ),
            _ => Outcome::new(Exit::Api, format!("error: {error}")),
        }
    }
}

fn safe_to_repeat(error: &Error) -> bool {
    error
        .operation()
        .and_then(p100_api::catalog::operation)
        .is_some_and(|op| op.effect.is_safe_to_repeat())
}

fn unknown_movement(error: &Error, movement: &UnknownMovement) -> String {
    let mut lines = vec![
        format!("error: {error}"),
        format!(
            "the outcome of {} is UNKNOWN: the money may have moved. It was not sent again.",
            movement.operation
        ),
        "reconcile before retrying:".to_string(),
    ];
    if let Some(id) = &movement.id {
        lines.push(format!("  id:      {id}"));
    }
    // The body exactly as sent (a JSON-number amount keeps every digit); the JSON value only
    // for a movement the SDK did not send itself.
    if let Some(body) = movement.sent_body() {
        lines.push(format!("  request: {}", String::from_utf8_lossy(body)));
    } else if let Some(request) = &movement.request {
        lines.push(format!("  request: {request}"));
    }
    if let Some(at) = movement.sent_at {
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        lines.push(format!("  sent at: {secs} (Unix seconds)"));
    }
    if let Some(waiter) =
        p100_api::catalog::operation(movement.operation).and_then(|op| op.waiter())
    {
        lines.push(format!(
            "  look for it with {} (or the transaction history); `p100 wait` follows it once \
             you have its id",
            waiter.details
        ));
    }
    lines.join("\n")
}

/// How waiting is shown.
#[derive(Clone, Debug)]
pub struct Ui {
    /// Output format of the final record.
    pub format: Format,
    /// The wait policy.
    pub policy: WaitPolicy,
}

/// A spinner on a terminal, plain lines elsewhere.
enum Progress {
    Spinner(ProgressBar),
    Lines,
}

impl Progress {
    fn start(what: &str) -> Self {
        let target = ProgressDrawTarget::stderr();
        if target.is_hidden() {
            eprintln!("waiting for {what}");
            return Progress::Lines;
        }
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("waiting for {what}"));
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress::Spinner(bar)
    }

    fn status(&self, line: String) {
        match self {
            Progress::Spinner(bar) => bar.set_message(line),
            Progress::Lines => eprintln!("{line}"),
        }
    }

    fn finish(self) {
        if let Progress::Spinner(bar) = self {
            bar.finish_and_clear();
        }
    }
}

fn shown<S: Display>(status: Option<&S>) -> String {
    status.map_or_else(|| "(no status)".to_string(), ToString::to_string)
}

fn print_record<T: Serialize>(record: &T, format: Format) -> Result<(), Outcome> {
    let json = serde_json::to_string_pretty(record)
        .map_err(|e| Outcome::new(Exit::Api, format!("cannot write the record: {e}")))?;
    out!("{}", render(&json, format));
    Ok(())
}

/// Follows `waiter` to the end, showing each status, then prints the final record and the
/// final line.
pub async fn follow<T: Waitable + Serialize>(waiter: Waiter<T>, id: &str, ui: Ui) -> Outcome {
    let what = format!("{} {id}", T::KIND);
    let progress = Progress::start(&what);
    let mut changes = waiter.policy(ui.policy.clone()).status_changes();
    let mut last = None;
    while let Some(change) = changes.next().await {
        match change {
            Ok(change) => {
                progress.status(format!(
                    "{what}: {} (poll {}, {:.1?})",
                    shown(change.status.as_ref()),
                    change.polls,
                    change.elapsed
                ));
                if change.class == StatusClass::Succeeded {
                    progress.finish();
                    if let Err(outcome) = print_record(&change.record, ui.format) {
                        return outcome;
                    }
                    eprintln!(
                        "{what} {} after {} poll(s) in {:.1?}",
                        shown(change.status.as_ref()),
                        change.polls,
                        change.elapsed
                    );
                    return Outcome::ok();
                }
                last = Some(change);
            }
            Err(error) => {
                progress.finish();
                return wait_failed(error, ui.format);
            }
        }
    }
    progress.finish();
    let status = last.and_then(|c| c.status.map(|s| s.to_string()));
    Outcome::new(
        Exit::Api,
        format!(
            "{what}: the wait ended without a final status (last: {})",
            status.unwrap_or_default()
        ),
    )
}

fn wait_failed<T: Waitable + Serialize>(error: WaitError<T>, format: Format) -> Outcome {
    if let Some(record) = error.last_record() {
        if let Err(outcome) = print_record(record, format) {
            return outcome;
        }
    }
    match &error {
        WaitError::Failed(_) => Outcome::new(Exit::Failed, format!("{error}")),
        WaitError::TimedOut(_) => Outcome::new(
            Exit::TimedOut,
            format!(
                "{error}\nit is still in flight: `p100 wait` follows it again, with its id {}",
                error.id()
            ),
        ),
        _ => Outcome::new(
            Exit::Api,
            format!(
                "{error}\nit was created (id {}); `p100 wait` follows it again",
                error.id()
            ),
        ),
    }
}

/// A currency given on the command line: one the spec lists, or exit 2.
pub fn currency(flag: &str, text: &str) -> Result<Currency, Outcome> {
    let currency = Currency::from(text);
    if let Currency::Unknown(_) = currency {
        let known: Vec<&str> = Currency::KNOWN.iter().map(Currency::as_str).collect();
        return Err(Outcome::new(
            Exit::Usage,
            format!(
                "error: {flag}: unknown currency {text:?} (known: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(currency)
}

/// An amount given on the command line: positive, plain decimal notation, or exit 2.
pub fn amount(flag: &str, text: &str) -> Result<Amount, Outcome> {
    Amount::try_from(text)
        .map_err(|e| Outcome::new(Exit::Usage, format!("error: {flag}: {text:?}: {e}")))
}

/// A decimal given on the command line (a rate), or exit 2.
pub fn decimal(flag: &str, text: &str) -> Result<p100_ergonomic::rust_decimal::Decimal, Outcome> {
    text.parse()
        .map_err(|e| Outcome::new(Exit::Usage, format!("error: {flag}: {text:?}: {e}")))
}

/// `p100 exchange`'s flow flags.
#[derive(Clone, Debug, clap::Args)]
pub struct ExchangeArgs {
    /// The user whose balance is exchanged (the partner's external user id).
    #[arg(long, value_name = "EXTERNAL_USER_ID")]
    pub user: Option<String>,
    /// How much of --from to sell (positive, plain decimal notation: `100`, `0.5`).
    #[arg(long)]
    pub amount: Option<String>,
    /// The currency to sell (`eur`, `btc`, …).
    #[arg(long)]
    pub from: Option<String>,
    /// The currency to buy.
    #[arg(long)]
    pub to: Option<String>,
    /// The worst acceptable rate (how much --to one --from must at least fetch); a lock below
    /// it is refused and nothing is executed.
    #[arg(long, value_name = "RATE")]
    pub min_rate: Option<String>,
    /// The highest acceptable rate; a lock above it is refused and nothing is executed.
    #[arg(long, value_name = "RATE")]
    pub max_rate: Option<String>,
    /// Wait for the final status (spinner on a terminal).
    #[arg(long)]
    pub wait: bool,
}

/// `p100 exchange --user u1 --amount 100 --from eur --to btc [--min-rate R] [--max-rate R]
/// [--wait]`.
pub async fn exchange(client: &Client, args: ExchangeArgs, ui: Ui) -> Outcome {
    let missing: Vec<&str> = [
        ("--user", args.user.is_none()),
        ("--amount", args.amount.is_none()),
        ("--from", args.from.is_none()),
        ("--to", args.to.is_none()),
    ]
    .into_iter()
    .filter_map(|(flag, missing)| missing.then_some(flag))
    .collect();
    if !missing.is_empty() {
        return Outcome::new(
            Exit::Usage,
            format!(
                "error: p100 exchange needs {} (or an operation: p100 exchange --help)",
                missing.join(", ")
            ),
        );
    }
    let parsed = (|| {
        let amount = amount("--amount", args.amount.as_deref().unwrap_or_default())?;
        let from = currency("--from", args.from.as_deref().unwrap_or_default())?;
        let to = currency("--to", args.to.as_deref().unwrap_or_default())?;
        let min = args
            .min_rate
            .as_deref()
            .map(|r| decimal("--min-rate", r))
            .transpose()?;
        let max = args
            .max_rate
            .as_deref()
            .map(|r| decimal("--max-rate", r))
            .transpose()?;
        Ok::<_, Outcome>((amount, from, to, min, max))
    })();
    let (amount, from, to, min, max) = match parsed {
        Ok(parsed) => parsed,
        Err(outcome) => return outcome,
    };
    let mut flow = client
        .exchange()
        .user(args.user.unwrap_or_default())
        .sell(amount, from.clone())
        .buy(to.clone());
    if let Some(min) = min {
        flow = flow.min_rate(min);
    }
    if let Some(max) = max {
        flow = flow.accept(move |quote| quote.rate().is_some_and(|rate| rate <= max));
    }
    eprintln!("locking a rate for {amount} {from} → {to}, then executing");
    let executed = match flow.send().await {
        Ok(executed) => executed,
        Err(error) => return lock_failed(&error),
    };
    let id = executed.id();
    eprintln!(
        "exchange {id} executed with lock {} ({} lock(s) taken)",
        executed.lock.id, executed.locks_taken
    );
    if !args.wait {
        return match print_record(&executed.created, ui.format) {
            Ok(()) => Outcome::ok(),
            Err(outcome) => outcome,
        };
    }
    follow(
        client.wait_until_final::<types::ExchangeDetails>(&id),
        &id,
        ui,
    )
    .await
}

fn lock_failed(error: &LockError) -> Outcome {
    match error {
        LockError::InvalidRequest(_) => Outcome::new(Exit::Usage, format!("error: {error}")),
        LockError::UnknownOutcome(unknown) => Outcome::new(
            Exit::Unknown,
            format!(
                "error: {error}\nthe exchange may have been executed: it was NOT sent again.\n\
                 reconcile: {}\n  lock:    {}\n  request: {}",
                unknown.reconcile,
                unknown.lock_id,
                unknown.request.to_json_string()
            ),
        ),
        LockError::QuoteRefused { .. } => Outcome::new(
            Exit::Failed,
            format!("error: {error}; nothing was executed"),
        ),
        _ => Outcome::new(Exit::Api, format!("error: {error}")),
    }
}

/// `p100 send …`: the money movements.
#[derive(Debug, clap::Subcommand)]
pub enum Send {
    /// An internal transfer between the partner and a user, or two users (`transfer_create`).
    Transfer {
        /// The receiving user (absent: the partner).
        #[arg(long, value_name = "EXTERNAL_USER_ID")]
        to: Option<String>,
        /// The sending user (absent: the partner).
        #[arg(long, value_name = "EXTERNAL_USER_ID")]
        from: Option<String>,
        /// The amount (positive, plain decimal notation).
        #[arg(long)]
        amount: String,
        /// The currency.
        #[arg(long)]
        currency: String,
        /// Wait for the final status.
        #[arg(long)]
        wait: bool,
    },
    /// A SEPA transfer from a user's EUR balance to an IBAN (`sepa_transfer_create`).
    Sepa {
        /// The sending user.
        #[arg(long, value_name = "EXTERNAL_USER_ID")]
        user: String,
        /// The receiving IBAN.
        #[arg(long)]
        iban: String,
        /// The amount (positive, plain decimal notation).
        #[arg(long)]
        amount: String,
        /// The currency (the spec lists `eur` for SEPA).
        #[arg(long)]
        currency: String,
        /// The transfer title (payment reference).
        #[arg(long)]
        title: String,
        /// The receiver's first name (a person).
        #[arg(long)]
        first_name: Option<String>,
        /// The receiver's last name (a person).
        #[arg(long)]
        last_name: Option<String>,
        /// The receiver's company name (a company).
        #[arg(long)]
        company: Option<String>,
        /// Wait for the final status.
        #[arg(long)]
        wait: bool,
    },
    /// A crypto withdrawal from a user's balance to a wallet (`crypto_withdrawal_create`).
    Crypto {
        /// The request body as JSON (`CreateCryptoWithdrawalRequest`): a file, `-` for stdin,
        /// or the JSON itself.
        #[arg(long = "json-body", value_name = "FILE|-|JSON")]
        json_body: String,
        /// Wait for the final status.
        #[arg(long)]
        wait: bool,
    },
}

/// The id of what a create answered, by the spec's waiter of `operation`.
fn created_id<T: Serialize>(operation: &str, created: &T) -> Option<String> {
    let waiter = p100_api::catalog::operation(operation)?.waiter()?;
    let p100_api::catalog::IdSource::ResponseBody(field) = waiter.id else {
        return None;
    };
    let json = serde_json::to_value(created).ok()?;
    match json.get(field)? {
        serde_json::Value::String(id) => Some(id.clone()),
        other => Some(other.to_string()),
    }
}

async fn sent<C: Serialize, T: Waitable + Serialize>(
    client: &Client,
    operation: &'static str,
    created: Result<C, Error>,
    wait: bool,
    ui: Ui,
) -> Outcome {
    let created = match created {
        Ok(created) => created,
        Err(error) => return Outcome::of_error(&error),
    };
    let Some(id) = created_id(operation, &created) else {
        let _ = print_record(&created, ui.format);
        return Outcome::new(
            Exit::Unknown,
            format!("{operation} was taken but its answer has no id to follow: reconcile"),
        );
    };
    eprintln!("{} {id} created", T::KIND);
    if !wait {
        return match print_record(&created, ui.format) {
            Ok(()) => Outcome::ok(),
            Err(outcome) => outcome,
        };
    }
    follow(client.wait_until_final::<T>(&id), &id, ui).await
}

/// `--amount` and `--currency`, checked.
fn money(amount_text: &str, currency_code: &str) -> Result<(Amount, Currency), Outcome> {
    Ok((
        amount("--amount", amount_text)?,
        currency("--currency", currency_code)?,
    ))
}

/// Runs `p100 send …`.
pub async fn send(client: &Client, command: Send, ui: Ui) -> Outcome {
    match command {
        Send::Transfer {
            to,
            from,
            amount: text,
            currency: code,
            wait,
        } => {
            let (amount, currency) = match money(&text, &code) {
                Ok(money) => money,
                Err(outcome) => return outcome,
            };
            let mut body = types::CreateTransferRequest::builder()
                .amount(types::DecimalString::from(amount))
                .currency(currency.as_str().to_string());
            if let Some(to) = to {
                body = body.destination_external_user_id(to);
            }
            if let Some(from) = from {
                body = body.source_external_user_id(from);
            }
            let created = client.transfer_create().body(body).send().await;
            sent::<_, types::TransferDetails>(client, "transfer_create", created, wait, ui).await
        }
        Send::Sepa {
            user,
            iban,
            amount: text,
            currency: code,
            title,
            first_name,
            last_name,
            company,
            wait,
        } => {
            let (amount, currency) = match money(&text, &code) {
                Ok(money) => money,
                Err(outcome) => return outcome,
            };
            let body = types::CreateSepaTransferRequest::builder()
                .amount(types::DecimalString::from(amount))
                .currency(currency.as_str().to_string())
                .destination_iban(iban)
                .transfer_title(title)
                .external_user_id(Some(user))
                .receiver_first_name(first_name)
                .receiver_last_name(last_name)
                .company_name(company);
            let created = client.sepa_transfer_create().body(body).send().await;
            sent::<_, types::SepaTransferDetails>(client, "sepa_transfer_create", created, wait, ui)
                .await
        }
        Send::Crypto { json_body, wait } => {
            let body =
                match crate::api::read_body::<types::CreateCryptoWithdrawalRequest>(&json_body) {
                    Ok(body) => body,
                    Err(e) => return Outcome::new(Exit::Usage, format!("error: {e}")),
                };
            let created = client.crypto_withdrawal_create().body(body).send().await;
            sent::<_, types::CryptoWithdrawalDetails>(
                client,
                "crypto_withdrawal_create",
                created,
                wait,
                ui,
            )
            .await
        }
    }
}

/// What `p100 wait` can follow.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum WaitKind {
    /// An exchange (`exchange_get`).
    Exchange,
    /// A SEPA transfer (`sepa_transfer_get`).
    SepaTransfer,
    /// A crypto withdrawal (`crypto_withdrawal_get`).
    CryptoWithdrawal,
    /// An internal transfer (`transfer_get`).
    Transfer,
    /// An order (`order_get`).
    Order,
    /// A payment link (`payment_link_get`).
    PaymentLink,
    /// A user's KYC verification; the id is the external user id (`kyc_get_status`).
    Kyc,
}

/// Runs `p100 wait <kind> <id>`.
pub async fn wait(client: &Client, kind: WaitKind, id: &str, ui: Ui) -> Outcome {
    match kind {
        WaitKind::Exchange => follow(client.wait_for_exchange(id), id, ui).await,
        WaitKind::SepaTransfer => follow(client.wait_for_sepa_transfer(id), id, ui).await,
        WaitKind::CryptoWithdrawal => follow(client.wait_for_crypto_withdrawal(id), id, ui).await,
        WaitKind::Transfer => follow(client.wait_for_transfer(id), id, ui).await,
        WaitKind::Order => follow(client.wait_for_order(id), id, ui).await,
        WaitKind::PaymentLink => follow(client.wait_for_payment_link(id), id, ui).await,
        WaitKind::Kyc => follow(client.wait_for_kyc(id), id, ui).await,
    }
}
