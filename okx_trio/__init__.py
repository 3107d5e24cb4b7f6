"""okx_trio: a Trio-native, self-healing client for OKX's v5 public WebSocket channels.

Start with :func:`open_okx_client`; test your app with :mod:`okx_trio.testing`.
"""

from ._backoff import ReconnectStrategy as ReconnectStrategy
from ._batch import receive_batch as receive_batch
from ._book_levels import OrderBook as OrderBook
from ._book_records import BookLevel as BookLevel
from ._book_records import BookSnapshot as BookSnapshot
from ._book_records import BookUpdate as BookUpdate
from ._client import OkxClient as OkxClient
from ._config import AWS_URL as AWS_URL
from ._config import DEFAULT_URL as DEFAULT_URL
from ._config import ClientConfig as ClientConfig
from ._connection import Connection as Connection
from ._connection import ConnectionClosed as ConnectionClosed
from ._connection import Connector as Connector
from ._credentials import Credentials as Credentials
from ._fanout import Gap as Gap
from ._instrument_record import Instrument as Instrument
from ._instrument_record import InstrumentChange as InstrumentChange
from ._instruments import validate_inst_id as validate_inst_id
from ._open import open_okx_client as open_okx_client
from ._private_records import AccountGreeks as AccountGreeks
from ._private_records import Balance as Balance
from ._private_records import BalanceAndPosition as BalanceAndPosition
from ._private_records import BalanceDetail as BalanceDetail
from ._private_records import CashBalance as CashBalance
from ._private_records import Fill as Fill
from ._private_records import LiquidationWarning as LiquidationWarning
from ._private_records import Order as Order
from ._private_records import OrdersSnapshot as OrdersSnapshot
from ._private_records import Position as Position
from ._private_records import PositionChange as PositionChange
from ._private_records import PositionsSnapshot as PositionsSnapshot
from ._private_records import TradeRef as TradeRef
from ._records import Candle as Candle
from ._records import EstimatedPrice as EstimatedPrice
from ._records import FundingRate as FundingRate
from ._records import IndexTicker as IndexTicker
from ._records import LiquidationOrder as LiquidationOrder
from ._records import MarkPrice as MarkPrice
from ._records import OpenInterest as OpenInterest
from ._records import OptionSummary as OptionSummary
from ._records import PriceCandle as PriceCandle
from ._records import PriceLimit as PriceLimit
from ._records import Trade as Trade
from ._state import TRANSITIONS as TRANSITIONS
from ._state import ConnectionState as ConnectionState
from ._state import StateChange as StateChange
from ._stats import ConnectionStats as ConnectionStats
from ._subscription import Subscription as Subscription
from ._ticker import Ticker as Ticker
from ._transport_trio_websocket import WebSocketConnector as WebSocketConnector

__version__ = "0.1.0"

__all__ = [
    "AWS_URL",
    "DEFAULT_URL",
    "TRANSITIONS",
    "AccountGreeks",
    "Balance",
    "BalanceAndPosition",
    "BalanceDetail",
    "BookLevel",
    "BookSnapshot",
    "BookUpdate",
    "Candle",
    "CashBalance",
    "ClientConfig",
    "Connection",
    "ConnectionClosed",
    "ConnectionState",
    "ConnectionStats",
    "Connector",
    "Credentials",
    "EstimatedPrice",
    "Fill",
    "FundingRate",
    "Gap",
    "IndexTicker",
    "Instrument",
    "InstrumentChange",
    "LiquidationOrder",
    "LiquidationWarning",
    "MarkPrice",
    "OkxClient",
    "OpenInterest",
    "OptionSummary",
    "Order",
    "OrderBook",
    "OrdersSnapshot",
    "Position",
    "PositionChange",
    "PositionsSnapshot",
    "PriceCandle",
    "PriceLimit",
    "ReconnectStrategy",
    "StateChange",
    "Subscription",
    "Ticker",
    "Trade",
    "TradeRef",
    "WebSocketConnector",
    "open_okx_client",
    "receive_batch",
    "validate_inst_id",
]
