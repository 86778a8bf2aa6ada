"""Identity and accounts: tenants, users and their sign-in, the account mail, and what the
read side keeps of people (the identity model, personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.security import Argon2Hasher
from api.wiring.mail import MailParts
from api.wiring.platform import Wiring
from projections.identity.projector import IdentityProjector
from projections.identity.queries import IdentityQueries
from projections.personal import PersonalData
from services.account_mail import AccountMail
from services.accounts import AccountApplication
from services.identity import IdentityApplication


@dataclass
class AccountParts:
    hasher: Argon2Hasher
    identity: IdentityApplication
    accounts: AccountApplication
    identity_queries: IdentityQueries
    # The thread account mail goes on.
    account_mail: AccountMail
    personal_data: PersonalData


def wire_accounts(wiring: Wiring, mail: MailParts) -> AccountParts:
    settings, log = wiring.settings, wiring.log
    wiring.project(IdentityProjector())
    hasher = Argon2Hasher(concurrent=settings.password_checks)
    account_mail = AccountMail(mail.mail, mail.mail_templates)
    identity = IdentityApplication(
        log,
        hasher,
        account_mail,
        verification_ttl=timedelta(seconds=settings.email_verification_ttl_s),
        on_recorded=wiring.recorded,
    )
    return AccountParts(
        hasher=hasher,
        identity=identity,
        accounts=AccountApplication(
            log,
            identity,
            hasher,
            account_mail,
            refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s),
            reset_ttl=timedelta(seconds=settings.password_reset_ttl_s),
            on_recorded=wiring.recorded,
        ),
        identity_queries=IdentityQueries(wiring.read_store),
        account_mail=account_mail,
        personal_data=PersonalData(wiring.read_store),
    )
