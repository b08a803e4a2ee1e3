//! The `Client` methods that make a waiter: `wait_until_final` for any kind, and one
//! `wait_for_*` method per kind, which names the kind for you. The waiter itself is in
//! `waiter`.

use std::fmt;

use super::kinds::Waitable;
use super::waiter::Waiter;
use crate::{types, Client};

impl Client {
    /// A waiter for any [`Waitable`] kind: `client.wait_until_final::<types::OrderDetails>(id)`.
    /// The `wait_for_*` methods name the kind for you.
    pub fn wait_until_final<T: Waitable>(&self, id: impl fmt::Display) -> Waiter<T> {
        Waiter::new(self.clone(), id.to_string())
    }

    /// Waits for an exchange (`exchange_get`) to be `COMPLETED` or `FAILED`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_exchange("3f0aeaa7-1177-4d77-9985-0cb987809801").await?;
    /// println!("exchanged at {:?}", done.record.rate);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_exchange(
        &self,
        exchange_id: impl fmt::Display,
    ) -> Waiter<types::ExchangeDetails> {
        self.wait_until_final(exchange_id)
    }

    /// Waits for a SEPA transfer (`sepa_transfer_get`) to be `SUCCESSFUL` or `FAILED`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let sent = client
    ///     .wait_for_sepa_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2")
    ///     .max_wait(Duration::from_secs(3600))
    ///     .await?;
    /// println!("{} {} to {}", sent.record.amount, sent.record.currency, sent.record.destination_iban);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_sepa_transfer(
        &self,
        transfer_id: impl fmt::Display,
    ) -> Waiter<types::SepaTransferDetails> {
        self.wait_until_final(transfer_id)
    }

    /// Waits for a crypto withdrawal (`crypto_withdrawal_get`) to reach a final status (inferred:
    /// see the [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_crypto_withdrawal("8c394557-ba48-4ab4-9349-84d396b4a7f7").await?;
    /// println!("on chain: {:?}", done.record.transaction_hash);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_crypto_withdrawal(
        &self,
        withdrawal_id: impl fmt::Display,
    ) -> Waiter<types::CryptoWithdrawalDetails> {
        self.wait_until_final(withdrawal_id)
    }

    /// Waits for an internal transfer (`transfer_get`) to be `SUCCESSFUL` or failed.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2").await?;
    /// println!("moved {} {}", done.record.amount, done.record.currency);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_transfer(
        &self,
        transfer_id: impl fmt::Display,
    ) -> Waiter<types::TransferDetails> {
        self.wait_until_final(transfer_id)
    }

    /// Waits for an order (`order_get`) to leave its waiting states (final states inferred: see
    /// the [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c").await?;
    /// println!("received {:?}", done.record.received_amount);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_order(&self, order_id: impl fmt::Display) -> Waiter<types::OrderDetails> {
        self.wait_until_final(order_id)
    }

    /// Waits for a payment link (`payment_link_get`) to reach a final status (inferred: see the
    /// [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_payment_link("pl-1").await?;
    /// println!("payment link {:?}", done.status);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_payment_link(
        &self,
        payment_link_id: impl fmt::Display,
    ) -> Waiter<types::PaymentLinkDetails> {
        self.wait_until_final(payment_link_id)
    }

    /// Waits for a user's KYC (`kyc_get_status`) to be verified or rejected.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::wait::WaitError;
    ///
    /// match client.wait_for_kyc("user-42").await {
    ///     Ok(_) => println!("verified"),
    ///     Err(WaitError::Failed(rejected)) => println!("rejected: {:?}", rejected.reason),
    ///     Err(other) => return Err(other.into()),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn wait_for_kyc(&self, external_user_id: impl fmt::Display) -> Waiter<types::KycStatus> {
        self.wait_until_final(external_user_id)
    }
}
