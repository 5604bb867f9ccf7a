"""Rasa's Slack channel with two changes.

- Slack re-sends an event it thinks was not acknowledged in time (header X-Slack-Retry-Num).
  Stock Rasa drops a retry only when its reason is `http_timeout` and processes the others again,
  answering twice; this channel acknowledges every retry and processes nothing.
- The Web API base URL comes from SLACK_API_URL (default Slack's own), so the tests can receive
  chat.postMessage on loopback instead of calling Slack.
"""

from __future__ import annotations

import logging
import os
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"


class SlackOutput(SlackBot):
    """Posts through the Web API at SLACK_API_URL."""

    def __init__(self, token: Text, slack_channel: Optional[Text] = None, thread_id: Optional[Text] = None, proxy: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, proxy=proxy, base_url=os.environ.get("SLACK_API_URL") or SLACK_API_URL)


class SlackInput(RasaSlackInput):
    """Slack Events API and interactivity, each event answered at most once."""

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        sender_id: Optional[Text],
        metadata: Optional[Dict],
    ) -> Any:
        # Called only after the signature and timestamp were verified.
        retry = request.headers.get(self.retry_num_header)
        if retry:
            reason = request.headers.get(self.retry_reason_header)
            logger.info(f"Slack retry #{retry} ({reason}) acknowledged and dropped: the first delivery is answered.")
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
