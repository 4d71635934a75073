"""Translating web3, requests and eth-tester failures into the chain area's errors.

The node not answering -> :class:`ChainUnavailable`; a revert (``eth_tester``'s
``TransactionFailed`` on the embedded chain, web3's ``ContractLogicError`` on a node) ->
:class:`TransactionReverted` with the reason; a call to an address without the contract ->
:class:`ChainMisconfigured`. Only the modules that talk to a node import this one (it
imports web3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from eth_tester.exceptions import TransactionFailed as TesterFailed
from web3 import exceptions as w3exc

from trellis.chain.errors import (
    ChainError,
    ChainMisconfigured,
    ChainUnavailable,
    TransactionReverted,
)
from trellis.messages import N_

# What people read (catalogued, with what to do); the library's text is the errors'
# ``detail``, for the log and an administrator's technical section (see errors.WithDetail).
NODE_DOWN_TEXT = N_("The Ethereum node does not answer, so nothing was read or sent on "
                    "chain. Nothing is lost: the work waits and is tried again; if this "
                    "lasts, an administrator checks the node (%(setting)s).")
REVERTED_TEXT = N_("The registry contract refused the request, so nothing was recorded on "
                   "chain. An administrator finds the contract's answer in the technical "
                   "detail.")
NO_CONTRACT_TEXT = N_("No Trellis registry answers at the configured contract address: "
                      "anchoring stops until an administrator sets %(setting)s (%(command)s "
                      "prints the address).")

NODE_DOWN = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError,
             w3exc.ProviderConnectionError, w3exc.RequestTimedOut)


def _revert_reason(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc)
    for prefix in ("execution reverted: ", "execution reverted"):
        if prefix in text:
            return text.split(prefix, 1)[1].strip() or "reverted"
    return text


@contextmanager
def node_errors(what: str) -> Iterator[None]:
    """Translate web3/requests/eth-tester failures into the chain area's errors."""
    try:
        yield
    except ChainError:
        raise
    except NODE_DOWN as exc:
        raise ChainUnavailable(NODE_DOWN_TEXT, params={"setting": "TRELLIS_CHAIN_URL"},
                               detail=f"{what}: {exc}") from exc
    except (TesterFailed, w3exc.ContractLogicError) as exc:
        reason = _revert_reason(exc)
        raise TransactionReverted(REVERTED_TEXT, reason=reason,
                                  detail=f"{what}: {reason}") from exc
    except w3exc.BadFunctionCallOutput as exc:
        raise ChainMisconfigured(NO_CONTRACT_TEXT, params={
            "setting": "TRELLIS_CHAIN_CONTRACT", "command": "trellis chain deploy"},
            detail=f"{what}: {exc}") from exc
