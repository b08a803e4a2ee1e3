"""One flow through a client generated from spec/p100.yaml by openapi-python-client, against the
sandbox (started by tests/consumers/run.sh with a manual clock): partner balances, create a user,
fund it (internal transfer, waited), user balances, lock + exchange (waited to COMPLETED), SEPA
transfer and crypto withdrawal (each waited), transaction history. Every amount is compared
exactly with what the sandbox holds (`/__sandbox/state`).

Exact amounts (the README's recipe): answers are read with `json.loads(..., parse_float=Decimal)`
(`exact.ExactTransport`), so a JSON number such as 987654321098765.43 keeps every digit; amounts
sent as JSON strings are exact anyway, and a JSON-number field is sent through `exact.number`,
which refuses a decimal a float would change. Usage: flow.py BASE_URL API_KEY
"""

from __future__ import annotations

import datetime
import json
import sys
import urllib.request
from decimal import Decimal
from typing import Any, Callable, TypeVar

import exact
import p100_values
from p100_client import AuthenticatedClient
from p100_client.api.crypto import crypto_withdrawal_create, crypto_withdrawal_get
from p100_client.api.exchange import exchange_create, exchange_create_lock, exchange_get
from p100_client.api.partner import partner_get_balances
from p100_client.api.sepa import sepa_transfer_create, sepa_transfer_get
from p100_client.api.transfers import transfer_create, transfer_get
from p100_client.api.users import user_create, user_get_balances, user_get_transaction_history
from p100_client.models import (
    CreateCryptoWithdrawalRequest,
    CreateExchangeRequest,
    CreateSepaTransferRequest,
    CreateTransferRequest,
    Error,
    ReceiverType,
    UserCreateRequest,
    WalletType,
)
from p100_client.types import Unset

T = TypeVar("T")
BASE, KEY = sys.argv[1], sys.argv[2]
USER = "py-consumer-1"
FINAL = {"COMPLETED", "SUCCESSFUL", "FAILED", "UNSUCCESSFUL", "REJECTED", "CANCELLED"}


def admin(path: str, body: dict[str, Any] | None = None) -> Any:
    """The sandbox's admin API (loopback, no key), read exactly."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{BASE}/__sandbox/{path}", data=data, method="POST" if data else "GET")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req) as answer:
        return json.loads(answer.read(), parse_float=Decimal)


def held(currency: str, user: str | None = None) -> Decimal:
    """What the sandbox holds of `currency` for the partner or a user, exactly."""
    state = admin("state")
    if user is None:
        return Decimal(state["partner"]["balances"][currency])
    (entry,) = [u for u in state["users"] if u["externalUserId"] == user]
    return Decimal(entry["balances"][currency])


def ok(answer: T | Error | str | None, what: str) -> T:
    if answer is None or isinstance(answer, (Error, str)):
        raise AssertionError(f"{what}: {answer!r}")
    return answer


def wait(what: str, poll: Callable[[], str]) -> str:
    """Polls until the status is final. The sandbox's clock is manual: the first poll must see the
    movement in flight, then the clock moves past the settle delay and it must be final."""
    first = poll()
    assert first not in FINAL, f"{what}: final before any time passed ({first})"
    admin("advance", {"seconds": 5})
    for _ in range(3):
        status = poll()
        if status in FINAL:
            print(f"{what}: {first} -> {status}")
            return status
    raise AssertionError(f"{what}: still {status} after the settle delay")


def main() -> None:
    # The recipe itself: the digits plain `json.loads` loses, and the trailing zeros.
    sample = exact.ExactResponse(200, content=b'{"big": 987654321098765.43, "fee": 500.00}').json()
    assert sample["big"] == Decimal("987654321098765.43") and str(sample["fee"]) == "500.00", sample
    assert json.loads("987654321098765.43") != Decimal("987654321098765.43")
    assert exact.number(Decimal("100.25")) == 100.25
    try:
        exact.number(Decimal("987654321098765.43"))
        raise AssertionError("a decimal no float holds was accepted")
    except ValueError:
        pass

    client = AuthenticatedClient(base_url=BASE, token=KEY, prefix="", auth_header_name="x-api-key",
                                 raise_on_unexpected_status=True)
    client.set_httpx_client(exact.client(BASE, {"x-api-key": KEY}))

    # Partner balances, each amount exactly what the sandbox holds.
    balances = ok(partner_get_balances.sync(client=client), "partner balances")
    assert not isinstance(balances.crypto_balances, Unset) and balances.crypto_balances
    for b in balances.crypto_balances:
        assert exact.decimal(b.amount) == held(b.name), (b.name, b.amount)
        if not isinstance(b.rate, Unset):
            assert isinstance(b.rate, Decimal), f"rate read as {type(b.rate).__name__}: digits may be lost"
    print(f"partner balances: {len(balances.crypto_balances)} crypto, exact")

    # A user, funded from the partner by an internal transfer (waited).
    created = ok(user_create.sync(client=client, body=UserCreateRequest(external_user_id=USER)), "user")
    print(f"user created: {created.user_id}")
    amount = Decimal("1234.56")
    eur_before = held("eur")
    funded = ok(transfer_create.sync(client=client, body=CreateTransferRequest(
        destination_external_user_id=USER, amount=str(amount), currency="eur")), "transfer")
    status = wait("internal transfer", lambda: str(ok(transfer_get.sync(funded.transfer_id, client=client), "transfer").status))
    assert status == "SUCCESSFUL", status
    assert held("eur") == eur_before - amount
    user_eur = held("eur", USER)
    assert user_eur == amount, user_eur

    def user_amount(name: str) -> Decimal:
        user = ok(user_get_balances.sync(USER, client=client), "user balances")
        fiat = [b.amount for b in user.fiat_balances or [] if b.name == name]
        crypto = [b.amount for b in user.crypto_balances or [] if b.name == name]
        rows = [*fiat, *crypto]
        assert len(rows) == 1, (name, rows)
        return exact.decimal(rows[0])

    assert user_amount("eur") == user_eur
    print(f"user balances: eur {user_amount('eur')}")

    # Lock + exchange EUR -> BTC, waited to COMPLETED.
    lock = ok(exchange_create_lock.sync(USER, client=client), "lock")
    sell = Decimal("100.25")
    exchange = ok(exchange_create.sync(client=client, body=CreateExchangeRequest(
        source_external_user_id=USER, amount=exact.number(sell), currency_from="eur", currency_to="btc",
        lock_id=lock.id)), "exchange")
    status = wait("exchange", lambda: str(ok(exchange_get.sync(exchange.exchange_id, client=client), "exchange").status))
    assert status == "COMPLETED" and status in p100_values.ExchangeStatus, status
    btc = held("btc", USER)
    assert btc > 0 and user_amount("btc") == btc
    assert user_amount("eur") == held("eur", USER)
    print(f"exchange: sold eur {sell}, user holds btc {btc}")

    # SEPA transfer out of the user's EUR (waited).
    eur = held("eur", USER)
    sepa = ok(sepa_transfer_create.sync(client=client, body=CreateSepaTransferRequest(
        source_external_user_id=USER, currency="eur", amount="10.00",
        destination_iban="DE89370400440532013000", transfer_title="consumer test")), "SEPA transfer")
    status = wait("SEPA transfer", lambda: str(ok(sepa_transfer_get.sync(sepa.transfer_id, client=client), "SEPA").status))
    assert status in {"COMPLETED", "SUCCESSFUL"}, status
    details = ok(sepa_transfer_get.sync(sepa.transfer_id, client=client), "SEPA details")
    assert exact.decimal(details.amount) == Decimal("10.00")
    assert held("eur", USER) < eur - Decimal("10.00") + Decimal("0.000001")
    assert user_amount("eur") == held("eur", USER)
    print(f"SEPA transfer: {status}, user eur {held('eur', USER)}")

    # Crypto withdrawal of part of the BTC (waited).
    out = (btc / 4).quantize(Decimal("0.00000001"))
    withdrawal = ok(crypto_withdrawal_create.sync(client=client, body=CreateCryptoWithdrawalRequest(
        source_external_user_id=USER, currency="btc", amount=exact.number(out),
        wallet_address="tb1qconsumertestaddress0000000000000000", name="Jane Doe",
        wallet_type=WalletType.NON_CUSTODIAL, receiver_type=ReceiverType.NATURAL)), "withdrawal")
    status = wait("crypto withdrawal", lambda: str(ok(crypto_withdrawal_get.sync(
        withdrawal.withdrawal_id, client=client), "withdrawal").status))
    assert status in {"COMPLETED", "SUCCESSFUL"}, status
    w = ok(crypto_withdrawal_get.sync(withdrawal.withdrawal_id, client=client), "withdrawal details")
    assert exact.decimal(w.amount) == out, (w.amount, out)
    assert user_amount("btc") == held("btc", USER) < btc - out + Decimal("0.00000001")
    print(f"crypto withdrawal: {status}, btc {out}")

    # The month's history (an open object: its fields were never documented).
    now = datetime.datetime.now(datetime.timezone.utc)
    history = ok(user_get_transaction_history.sync(USER, client=client, month=now.month, year=now.year), "history")
    moves = history.additional_properties.get("transactions", [])
    assert isinstance(moves, list) and len(moves) >= 4, moves
    assert all(not isinstance(m.get("amount"), float) for m in moves), "history amounts read as floats"
    print(f"transaction history: {len(moves)} transactions")
    print("python flow: OK")


if __name__ == "__main__":
    main()
