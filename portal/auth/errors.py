"""The sign-in exception tree: services raise these, views turn them into messages."""

from __future__ import annotations


class AuthError(Exception):
    """Base of every sign-in failure."""


class InvalidCredentials(AuthError):
    """Unknown login ID or wrong password (deliberately indistinguishable)."""


class AccountLocked(AuthError):
    """Too many password failures; told only after a correct password."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__("account locked")
        self.seconds_left = seconds_left


class TemporaryPasswordExpired(AuthError):
    """A temporary password (set by staff, never chosen by the customer) is too old to use.

    Told only after the right password, like the lock, so it reveals nothing to a guesser.
    """

    def __init__(self) -> None:
        super().__init__("temporary password expired")


class PasswordRejected(AuthError):
    """A new password breaks the rules; ``problems`` lists the messages."""

    def __init__(self, problems: list) -> None:
        super().__init__("password rejected")
        self.problems = problems


class PendingLoginExpired(AuthError):
    """Step 2 came too late, or without step 1, or was abandoned after too many failures
    (``too_many``: then the customer is told why and starts again)."""

    def __init__(self, too_many: bool = False) -> None:
        super().__init__("pending login expired")
        self.too_many = too_many


class SecondFactorError(AuthError):
    """Base of second-factor failures."""


class CardMissing(SecondFactorError):
    """No active card."""


class CardLocked(SecondFactorError):
    """Five wrong answers in a row; only a reissued card unlocks."""

    def __init__(self, just_locked: bool = False) -> None:
        super().__init__("card locked")
        self.just_locked = just_locked


class CardExhausted(SecondFactorError):
    """Every code pair of the card has been used."""


class StaleChallenge(SecondFactorError):
    """The form answered a challenge that is no longer the pinned one (another tab, a
    reissued card); not counted as a failure, since it is no guess at the current pair."""


class WrongCardCode(SecondFactorError):
    """A wrong answer; ``failures`` in a row so far, of ``limit``."""

    def __init__(self, failures: int, limit: int) -> None:
        super().__init__("wrong card code")
        self.failures = failures
        self.limit = limit


class OtpNotEnrolled(SecondFactorError):
    """No confirmed OTP credential."""


class OtpLocked(SecondFactorError):
    """Too many wrong codes; open again in ``seconds_left``."""

    def __init__(self, seconds_left: int, just_locked: bool = False) -> None:
        super().__init__("otp locked")
        self.seconds_left = seconds_left
        self.just_locked = just_locked


class OtpReplay(SecondFactorError):
    """A code from an already used time step."""


class WrongOtp(SecondFactorError):
    """A wrong code; ``failures`` in a row so far, of ``limit``."""

    def __init__(self, failures: int, limit: int) -> None:
        super().__init__("wrong otp")
        self.failures = failures
        self.limit = limit


class WrongRecoveryCode(AuthError):
    """Unknown or already used recovery code."""


class ReauthFailed(AuthError):
    """Wrong password at re-authentication or (``current=True``) as the current password of
    a password change. ``signed_out`` is True when this failure locked the account and
    ended its sessions.
    """

    def __init__(self, signed_out: bool = False, *, current: bool = False) -> None:
        super().__init__("wrong password")
        self.signed_out = signed_out
        self.current = current


class ReauthNeeded(AuthError):
    """A sensitive action, but the password was not typed in this session recently enough
    (PORTAL_REAUTH_SECONDS): nothing was changed."""


class MethodUnavailable(SecondFactorError):
    """The factor asked for is unknown or not enrolled."""


class ActivationRequired(AuthError):
    """First login: the new password must be set before the second factor."""


class EmailMalformed(AuthError):
    """Text given as an email address that cannot be one (forgotten login ID)."""


class ResetLinkInvalid(AuthError):
    """A password-reset link that cannot be used: ``reason`` is "unknown" (never issued or
    altered), "used" or "expired"."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"reset link {reason}")
        self.reason = reason


class ImportRefused(Exception):
    """A customer import file refused as a whole, before any row is looked at for its data
    (its header, its size, its encoding); ``line`` is where it was found (the header is 1).
    Rows with bad data are not refused this way: they are reported one by one."""

    def __init__(self, line: int = 1) -> None:
        super().__init__(f"line {line}")
        self.line = line


class ImportColumns(ImportRefused):
    """The header names unknown or repeated columns, or lacks required ones."""

    def __init__(
        self,
        *,
        missing: list[str],
        unknown: list[str],
        repeated: list[str],
        passwords: bool,
        allowed: list[str],
    ) -> None:
        super().__init__(1)
        self.allowed = allowed
        self.missing = missing
        self.unknown = unknown
        self.repeated = repeated
        # A password column is refused with its own reason: imported customers get a
        # temporary password made here, never one typed into a spreadsheet.
        self.passwords = passwords


class ImportEmpty(ImportRefused):
    """No header, or a header and no row."""


class ImportTooLarge(ImportRefused):
    """More rows than PORTAL_IMPORT_MAX_ROWS, or a line longer than any form could need."""

    def __init__(self, line: int, *, limit: int, rows: bool) -> None:
        super().__init__(line)
        self.limit = limit
        self.rows = rows


class ImportNotUtf8(ImportRefused):
    """A line is not UTF-8 (Korean Excel saves CP949 unless told "CSV UTF-8")."""


class ImportMalformed(ImportRefused):
    """The CSV itself cannot be read (an unclosed quote, a cell over the csv module's limit)."""


class ImportConflict(Exception):
    """While the import was writing, another registration took the login ID of row ``line``.
    The rows written so far are in the session: the caller rolls back."""

    def __init__(self, line: int, login_id: str) -> None:
        super().__init__(f"line {line}: {login_id}")
        self.line = line
        self.login_id = login_id


class CardChanged(AuthError):
    """A reissue was asked for a card that is no longer the customer's current one (the
    form was sent twice, or another staff member reissued meanwhile): nothing is done."""
