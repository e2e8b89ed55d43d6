"""Errors a user can act on: a message, an exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)

# Exit codes, as the README lists them.
NOT_SUCCEEDED = 1  # the request was rejected, failed or stopped
INVALID_INPUT = 2  # a request file or an option the user gave is wrong
AWS_SETUP = 3  # credentials, region, stack or permissions
NOT_FOUND = 4  # no such request

ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
BAD_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidToken",
    }
)


class CliError(Exception):
    """Something the user can fix; ``hint`` says how."""

    def __init__(self, message: str, exit_code: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint


def fail(message: str, exit_code: int, hint: str | None = None) -> NoReturn:
    raise CliError(message, exit_code, hint)


@contextmanager
def aws_errors(region: Callable[[], str | None]) -> Iterator[None]:
    """Turn botocore's exceptions into messages that say what to do."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError, TokenRetrievalError) as error:
        fail(
            f"no usable AWS credentials ({error})",
            AWS_SETUP,
            "configure them (aws configure, AWS_PROFILE, or --profile), or run with --offline",
        )
    except ProfileNotFound as error:
        fail(str(error), AWS_SETUP, "pass a profile from ~/.aws/config with --profile")
    except NoRegionError:
        fail("no AWS region", AWS_SETUP, "pass --region, or set AWS_REGION")
    except EndpointConnectionError as error:
        fail(f"cannot reach AWS: {error}", AWS_SETUP, "check the --region and your network")
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", error))
        operation = getattr(error, "operation_name", "the call")
        if code in ACCESS_DENIED:
            fail(
                f"access denied to {operation}: {message}",
                AWS_SETUP,
                "use credentials allowed to use the stack's buckets, bus, ledger and state machine",
            )
        if code in BAD_CREDENTIALS:
            fail(
                f"AWS refused the credentials ({code}): {message}",
                AWS_SETUP,
                "refresh or reconfigure them (aws sso login, aws configure)",
            )
        fail(
            f"{operation} failed in {region() or 'the default region'}: {code}: {message}",
            AWS_SETUP,
        )
    except BotoCoreError as error:
        fail(f"AWS client error: {error}", AWS_SETUP)
