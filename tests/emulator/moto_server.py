"""moto's server (Cognito + SES v2) with the AWS behaviour this project relies on and moto lacks.

Started by scripts/services.sh on 127.0.0.1 only. Everything here is test harness: the service
under test talks to it exactly as it talks to AWS, through the official Rust SDK.

What is added to moto, and why:

* AdminDeleteSoftwareToken (Cognito, 2026; aws-sdk-cognitoidentityprovider 1.144+). moto has no
  such action. Documented semantics: the user's TOTP software token is removed and the TOTP MFA
  preference with it, so the user no longer lists SOFTWARE_TOKEN_MFA.
* In a pool whose MFA is required ("ON"), AWS answers AdminSetUserMFAPreference with 200 and
  changes nothing when asked to disable TOTP; moto disables it. Modelled here so that the tests
  prove the service really removes the token instead of trusting a 200.
* SMS MFA in a required pool: AWS documents (SMSMfaSettingsType) "You can't turn off SMS MFA for
  any of your users when MFA is required in your user pool; you can only set the type that your
  user prefers": AdminSetUserMFAPreference answers 200 and SMS_MFA stays listed. moto turns it off.
  Without a phone number SMS codes have nowhere to go, so AdminDeleteUserAttributes(phone_number)
  ends SMS MFA (and the number's verification with it), which moto does not model.
* In a required pool, a user with no authenticator is asked to enrol at sign-in (MFA_SETUP);
  moto's ADMIN_USER_PASSWORD_AUTH flow signs such a user straight in.
* AdminInitiateAuth checks SECRET_HASH for app clients that have a secret, as AWS does (moto
  checks it only in the non-admin flows).
* TOTP as Cognito does it: AssociateSoftwareToken issues a fresh random secret per association
  (moto hands every user the same fixed `asdfasdfasdf`), VerifySoftwareToken checks the code
  against that secret, and a SOFTWARE_TOKEN_MFA challenge is answered only with a code of the
  user's verified secret; AdminDeleteSoftwareToken forgets it. So a test proves that the secret a
  service hands out is the one Cognito will check. moto runs with
  MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true so that codes are checked at all.
* AdminRespondToAuthChallenge(MFA_SETUP) completes only after the session's token was verified,
  as in AWS (moto signs the user in regardless).
* The ContextData of each AdminInitiateAuth (the end user's address and headers, which AWS feeds
  to its threat protection) is kept per user and readable at
  GET /_harness/cognito/{pool_id}/context-data/{username}, so a test can check what the service
  tells Cognito about the client (moto ignores it).
* A read-only view of the mail SES accepted (GET /_harness/ses/messages), so tests read the
  emailed code the way a user reads their inbox.
* Case-insensitive usernames: a pool created with UsernameConfiguration {CaseSensitive: false}
  finds `Alice`, `ALICE` and `alice` (and the email alias in any case) as one user, as AWS
  documents for UsernameConfigurationType; moto compares names exactly whatever the setting.
* Remembered devices: AdminListDevices and AdminForgetDevice, which moto lacks. AWS: a device
  a user confirmed and remembered skips MFA at sign-in until it is forgotten; AdminListDevices
  returns a user's devices, at most `Limit` (1 to 60, default 60) a page with a
  `PaginationToken` for the next; AdminForgetDevice removes one (ResourceNotFoundException for a
  device the user does not have). The device flow itself (ConfirmDevice with SRP verifiers) is
  not modelled: POST /_harness/cognito/{pool_id}/devices/{username}?count=N gives the user N
  remembered devices, as N phones and laptops would.
* AdminGetUserAuthFactors, which moto lacks. AWS: the user's MFA factors (UserMFASettingList,
  PreferredMfaSetting) and the sign-in factors configured for them (ConfiguredUserAuthFactors:
  PASSWORD, SMS_OTP, EMAIL_OTP, WEB_AUTHN). Passkeys are not modelled by moto: POST
  /_harness/cognito/{pool_id}/passkeys/{username}?name=N registers one (WEB_AUTHN), as the
  WebAuthn registration ceremony on a phone would (GET lists them). There is no admin API that
  deletes a passkey, in AWS as here.
* ListWebAuthnCredentials and DeleteWebAuthnCredential, which moto lacks. AWS: both take the
  user's own AccessToken (an admin caller has none: NotAuthorizedException for a token that is
  not live, as after a global sign-out); ListWebAuthnCredentials returns Credentials, each a
  WebAuthnCredentialDescription (CredentialId, FriendlyCredentialName, RelyingPartyId,
  AuthenticatorAttachment, AuthenticatorTransports, CreatedAt in epoch seconds), at most
  MaxResults (1 to 20) a page with a NextToken for the next; DeleteWebAuthnCredential removes one
  of the caller's own by CredentialId and answers {} (ResourceNotFoundException for one the
  user does not have). Once none is left, WEB_AUTHN leaves ConfiguredUserAuthFactors.
* GET /_harness/cognito/{pool_id}/live-tokens/{username}: how many of the user's access tokens
  are live (not signed out), so a test sees that a service signed the user out everywhere.
* GetSMSSandboxAccountStatus (SNS), which moto lacks: this emulated account is out of the SMS
  sandbox (IsInSandbox false), as a production account is; POST
  /_harness/sns/sandbox/{access_key_id} puts it in the sandbox for callers signing with that key
  (per key, as for SES below).
* GetAccount (SES v2), which moto lacks (it answers 404): the account is out of the sandbox with
  sending enabled, as a production account is. AWS keeps that state per account and region; this
  emulator has one account for every access key, so POST
  /_harness/ses/account/{access_key_id}?sandbox=true&sending=false sets it for callers signing
  with that key only (tests running in parallel do not see each other's accounts).
* A read-only view of the texts SNS accepted for phone numbers (GET /_harness/sns/texts), which
  moto keeps but does not show.
* Email MFA (EMAIL_OTP), which moto lacks, and SMS MFA codes that are checked (moto accepts any
  SMS_MFA code and signs a user straight in whose SMS MFA is not the preferred factor). AWS: a user
  with an MFA factor is asked for it at sign-in; AdminSetUserMFAPreference's EmailMfaSettings
  turns email MFA on or off and lists EMAIL_OTP in UserMFASettingList; without TOTP, a user with
  SMS or email MFA gets the SMS_MFA or EMAIL_OTP challenge (the preferred one, else SMS, then
  email) with CODE_DELIVERY_DELIVERY_MEDIUM and a masked CODE_DELIVERY_DESTINATION, and
  AdminRespondToAuthChallenge with SMS_MFA_CODE or EMAIL_OTP_CODE signs in, or answers
  CodeMismatchException and keeps the session for another try. In a pool that requires MFA, such
  a user is not asked to set up TOTP (MFA_SETUP): the factor they have satisfies it. The code
  Cognito sent (by text or email) is readable at GET
  /_harness/cognito/{pool_id}/mfa-code/{username}, as the person reads it on their phone or in
  their mailbox.
* POST /_harness/cognito/{pool_id}/without-delete-software-token makes AdminDeleteSoftwareToken
  unknown for that one pool, as in a region or SDK that predates it (per pool, so tests running
  in parallel do not see each other's faults).
"""

import base64
import json
import os
import secrets
import sys

# Before moto is imported: TOTP codes are checked (against the secrets issued below).
os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")

from moto.cognitoidp import models as cognito_models
from cryptography.hazmat.primitives.twofactor import InvalidToken
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
)
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.cognitoidp.utils import check_secret_hash, cognito_totp, verify_totp
from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from moto.sns.responses import SNSResponse
from moto.core.responses import ActionResult
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

# SES account states set by tests, per access key id: (in the sandbox, sending enabled).
SES_ACCOUNTS = {}
# Access key ids whose SNS account is in the SMS sandbox.
SMS_SANDBOXED_KEYS = set()

Backend = cognito_models.CognitoIdpBackend
_exact_get_user = cognito_models.CognitoIdpUserPool._get_user


def _get_user(self, username):
    """AWS: with CaseSensitive false, "users can sign in using username, USERNAME, or
    UserName"; the email and preferred_username aliases are case-insensitive too."""
    user = _exact_get_user(self, username)
    config = self.extended_config.get("UsernameConfiguration") or {}
    if user or config.get("CaseSensitive", True) or not isinstance(username, str):
        return user
    folded = username.lower()
    aliases = self.extended_config.get("UsernameAttributes") or []
    for candidate in self.users.values():
        if candidate.username.lower() == folded:
            return candidate
        attrs = cognito_models.flatten_attrs(candidate.attributes)
        if any((attrs.get(a) or "").lower() == folded for a in aliases):
            return candidate
    return None


cognito_models.CognitoIdpUserPool._get_user = _get_user
POOLS_WITHOUT_DELETE_TOKEN: set[str] = set()


class UnknownOperationException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "UnknownOperationException", "AdminDeleteSoftwareToken is not available"
        )


def admin_delete_software_token(self, user_pool_id: str, username: str) -> None:
    if user_pool_id in POOLS_WITHOUT_DELETE_TOKEN:
        raise UnknownOperationException()
    user = self.admin_get_user(user_pool_id, username)
    user.token_verified = False
    user.software_token_mfa_enabled = False
    user.totp_secret = None
    user.pending_totp_secret = None
    if user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA":
        user.preferred_mfa_setting = ""


Backend.admin_delete_software_token = admin_delete_software_token


def admin_delete_software_token_response(self):
    self.backend.admin_delete_software_token(
        self._get_param("UserPoolId"), self._get_param("Username")
    )
    return EmptyResult()


CognitoIdpResponse.admin_delete_software_token = admin_delete_software_token_response

_moto_set_preference = Backend.admin_set_user_mfa_preference


def admin_set_user_mfa_preference(
    self, user_pool_id, username, software_token_mfa_settings, sms_mfa_settings
):
    pool = self.describe_user_pool(user_pool_id)
    if (
        pool.mfa_config == "ON"
        and software_token_mfa_settings
        and not software_token_mfa_settings.get("Enabled")
    ):
        # AWS: 200 and no change when TOTP is disabled in a pool that requires MFA.
        self.admin_get_user(user_pool_id, username)
        software_token_mfa_settings = None
    if pool.mfa_config == "ON" and sms_mfa_settings and not sms_mfa_settings.get("Enabled"):
        # AWS: SMS MFA cannot be turned off in a pool that requires MFA.
        self.admin_get_user(user_pool_id, username)
        sms_mfa_settings = None
    return _moto_set_preference(
        self, user_pool_id, username, software_token_mfa_settings, sms_mfa_settings
    )


Backend.admin_set_user_mfa_preference = admin_set_user_mfa_preference

_moto_set_preference_response = CognitoIdpResponse.admin_set_user_mfa_preference


def admin_set_user_mfa_preference_response(self):
    email = self._get_param("EmailMfaSettings")
    if email is not None:
        user = self.backend.admin_get_user(self._get_param("UserPoolId"), self._get_param("Username"))
        user.email_mfa_enabled = bool(email.get("Enabled"))
        if email.get("PreferredMfa") and user.email_mfa_enabled:
            user.preferred_mfa_setting = "EMAIL_OTP"
        elif user.preferred_mfa_setting == "EMAIL_OTP" and not user.email_mfa_enabled:
            user.preferred_mfa_setting = ""
    return _moto_set_preference_response(self)


CognitoIdpResponse.admin_set_user_mfa_preference = admin_set_user_mfa_preference_response
_moto_user_to_json = cognito_models.CognitoIdpUser.to_json


def user_to_json(self, extended=False, attributes_key="Attributes", attributes_to_get=None):
    answer = _moto_user_to_json(self, extended, attributes_key, attributes_to_get)
    if extended and getattr(self, "email_mfa_enabled", False):
        answer.setdefault("UserMFASettingList", []).append("EMAIL_OTP")
    return answer


cognito_models.CognitoIdpUser.to_json = user_to_json

_moto_delete_attributes = Backend.admin_delete_user_attributes


def admin_delete_user_attributes(self, user_pool_id, username, attributes):
    _moto_delete_attributes(self, user_pool_id, username, attributes)
    if "phone_number" in attributes:
        user = self.admin_get_user(user_pool_id, username)
        if any(a["Name"] == "phone_number_verified" for a in user.attributes):
            user.delete_attributes(["phone_number_verified"])
        user.sms_mfa_enabled = False
        if user.preferred_mfa_setting == "SMS_MFA":
            user.preferred_mfa_setting = ""


Backend.admin_delete_user_attributes = admin_delete_user_attributes

_moto_admin_initiate_auth = Backend.admin_initiate_auth


def admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters):
    client = self.describe_user_pool(user_pool_id).clients.get(client_id)
    if client is not None and client.generate_secret and not check_secret_hash(
        client.secret,
        client.id,
        auth_parameters.get("USERNAME", ""),
        auth_parameters.get("SECRET_HASH"),
    ):
        raise NotAuthorizedError("Unable to verify secret hash for client " + client_id)
    result = _moto_admin_initiate_auth(
        self, user_pool_id, client_id, auth_flow, auth_parameters
    )
    pool = self.describe_user_pool(user_pool_id)
    user = self.admin_get_user(user_pool_id, auth_parameters.get("USERNAME"))
    challenge = _code_challenge(user)
    signed_in = "AuthenticationResult" in result
    if challenge and (signed_in or result.get("ChallengeName") == "SMS_MFA"):
        # The factor the user has is asked for, with a code sent to it.
        if signed_in:
            pool.access_tokens.pop(result["AuthenticationResult"]["AccessToken"], None)
        session = result.get("Session") or str(cognito_models.random.uuid4())
        self.sessions[session] = (user.username, pool)
        return _send_code(pool, user, challenge, session)
    if pool.mfa_config == "ON" and signed_in:
        if not user.software_token_mfa_enabled and not user.sms_mfa_enabled:
            # Undo moto's sign-in: AWS issues no tokens before the user has enrolled.
            access_token = result["AuthenticationResult"]["AccessToken"]
            pool.access_tokens.pop(access_token, None)
            session = str(cognito_models.random.uuid4())
            self.sessions[session] = (user.username, pool)
            return {
                "ChallengeName": "MFA_SETUP",
                "ChallengeParameters": {"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
                "Session": session,
            }
    return result


# The code each user was last sent for an SMS_MFA or EMAIL_OTP challenge, per (pool, username):
# (challenge, code).
MFA_CODES: dict[tuple[str, str], tuple[str, str]] = {}


def _code_challenge(user):
    """The code challenge a user without TOTP gets at sign-in: the preferred of SMS and email
    MFA, else SMS, then email; None when they have neither (or TOTP)."""
    if user.software_token_mfa_enabled:
        return None
    sms = user.sms_mfa_enabled
    email = getattr(user, "email_mfa_enabled", False)
    if user.preferred_mfa_setting == "EMAIL_OTP" and email:
        return "EMAIL_OTP"
    if sms:
        return "SMS_MFA"
    if email:
        return "EMAIL_OTP"
    return None


def _masked(value, medium):
    if medium == "EMAIL":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return "+*******" + value[-4:]


def _send_code(pool, user, challenge, session):
    attrs = cognito_models.flatten_attrs(user.attributes)
    medium = "EMAIL" if challenge == "EMAIL_OTP" else "SMS"
    destination = attrs.get("email" if medium == "EMAIL" else "phone_number") or ""
    code = f"{secrets.randbelow(10**6):06d}" if medium == "SMS" else f"{secrets.randbelow(10**8):08d}"
    MFA_CODES[(pool.id, user.username)] = (challenge, code)
    return {
        "ChallengeName": challenge,
        "ChallengeParameters": {
            "CODE_DELIVERY_DELIVERY_MEDIUM": medium,
            "CODE_DELIVERY_DESTINATION": _masked(destination, medium),
        },
        "Session": session,
    }


Backend.admin_initiate_auth = admin_initiate_auth

CONTEXT_DATA: dict[tuple[str, str], dict] = {}
_moto_admin_initiate_auth_response = CognitoIdpResponse.admin_initiate_auth


def admin_initiate_auth_response(self):
    username = (self._get_param("AuthParameters") or {}).get("USERNAME", "")
    CONTEXT_DATA[(self._get_param("UserPoolId"), username)] = self._get_param("ContextData")
    return _moto_admin_initiate_auth_response(self)


CognitoIdpResponse.admin_initiate_auth = admin_initiate_auth_response


def _user_of(self, access_token, session):
    """The user an AccessToken or a Session belongs to, as AWS resolves either."""
    if session:
        if session not in self.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, pool = self.sessions[session]
        return self.admin_get_user(pool.id, username), pool
    for pool in self.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return self.admin_get_user(pool.id, username), pool
    raise NotAuthorizedError("Invalid Access Token")


def _code_matches(secret, code):
    if not secret or not code:
        return False
    try:
        # One time step either way, for clock drift between phone and service.
        verify_totp(cognito_totp(secret), code.encode("utf-8"), valid_window=1)
        return True
    except InvalidToken:
        return False


def associate_software_token(self, access_token, session):
    user, _ = _user_of(self, access_token, session)
    # Cognito: a new random secret for every association (160 bits, base32, no padding).
    secret = base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")
    user.pending_totp_secret = secret
    result = {"SecretCode": secret}
    if session:
        result["Session"] = session
    return result


Backend.associate_software_token = associate_software_token


def verify_software_token(self, access_token, session, user_code, friendly_device_name):
    user, pool = _user_of(self, access_token, session)
    pending = getattr(user, "pending_totp_secret", None)
    if not pending:
        raise InvalidParameterException("No software token is being associated")
    if not _code_matches(pending, user_code):
        raise CodeMismatchException("Invalid code received for user")
    user.totp_secret = pending
    user.pending_totp_secret = None
    user.token_verified = True
    new_session = str(cognito_models.random.uuid4())
    self.sessions[new_session] = (user.username, pool)
    return {"Status": "SUCCESS", "Session": new_session}


Backend.verify_software_token = verify_software_token

_moto_respond_to_auth_challenge = Backend.respond_to_auth_challenge


def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    if challenge_name in ("SMS_MFA", "EMAIL_OTP"):
        if session not in self.sessions:
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        username, pool = self.sessions[session]
        client = pool.clients.get(client_id)
        if not client:
            raise ResourceNotFoundError(client_id)
        if client.generate_secret and not check_secret_hash(
            client.secret, client.id, username, challenge_responses.get("SECRET_HASH")
        ):
            raise NotAuthorizedError("Unable to verify secret hash for client " + client_id)
        sent = MFA_CODES.get((pool.id, username))
        code = challenge_responses.get(f"{challenge_name}_CODE")
        if sent is None or sent[0] != challenge_name or code != sent[1]:
            raise CodeMismatchException("Invalid code received for user")
        del MFA_CODES[(pool.id, username)]
        del self.sessions[session]
        return self._log_user_in(pool, client, username)
    if challenge_name == "SOFTWARE_TOKEN_MFA":
        if session not in self.sessions:
            raise ResourceNotFoundError(session)
        _, pool = self.sessions[session]
        client = pool.clients.get(client_id)
        if not client:
            raise ResourceNotFoundError(client_id)
        username = challenge_responses.get("USERNAME")
        user = self.admin_get_user(pool.id, username)
        if client.generate_secret and not check_secret_hash(
            client.secret, client.id, username, challenge_responses.get("SECRET_HASH")
        ):
            raise NotAuthorizedError("Unable to verify secret hash for client " + client_id)
        if not _code_matches(getattr(user, "totp_secret", None), challenge_responses.get("SOFTWARE_TOKEN_MFA_CODE")):
            raise CodeMismatchException("Invalid code received for user")
        del self.sessions[session]
        return self._log_user_in(pool, client, username)
    if challenge_name == "MFA_SETUP":
        if session not in self.sessions:
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        username, pool = self.sessions[session]
        if not self.admin_get_user(pool.id, username).token_verified:
            raise InvalidParameterException("MFA_SETUP needs a verified software token")
    return _moto_respond_to_auth_challenge(
        self, session, client_id, challenge_name, challenge_responses
    )


Backend.respond_to_auth_challenge = respond_to_auth_challenge


# Remembered devices per (pool, username): {DeviceKey: device}, in the order they were added.
DEVICES: dict[tuple[str, str], dict[str, dict]] = {}


def _devices(backend, user_pool_id, username):
    user = backend.admin_get_user(user_pool_id, username)  # UserNotFoundException as in AWS
    return DEVICES.setdefault((user_pool_id, user.username), {})


def admin_list_devices_response(self):
    devices = list(_devices(self.backend, self._get_param("UserPoolId"), self._get_param("Username")).values())
    limit = int(self._get_param("Limit") or 60)
    if not 0 <= limit <= 60:
        raise InvalidParameterException("Limit must be between 0 and 60")
    start = int(self._get_param("PaginationToken") or 0)
    page = devices[start : start + limit]
    answer = {"Devices": page}
    if start + limit < len(devices):
        answer["PaginationToken"] = str(start + limit)
    return json.dumps(answer)


def admin_forget_device_response(self):
    devices = _devices(self.backend, self._get_param("UserPoolId"), self._get_param("Username"))
    if devices.pop(self._get_param("DeviceKey"), None) is None:
        raise ResourceNotFoundError("Device does not exist.")
    return ""


# Registered passkeys per (pool, username): WebAuthnCredentialDescriptions, oldest first.
PASSKEYS: dict[tuple[str, str], list[dict]] = {}


def _register_passkey(pool_id, username, name):
    PASSKEYS.setdefault((pool_id, username), []).append(
        {
            # WebAuthn credential ids are base64url: as a browser reports them.
            "CredentialId": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            "FriendlyCredentialName": name,
            "RelyingPartyId": "auth.example.com",
            "AuthenticatorAttachment": "platform",
            "AuthenticatorTransports": ["internal", "hybrid"],
            "CreatedAt": 1.7e9 + len(PASSKEYS.get((pool_id, username), [])) * 86400,
        }
    )


def _passkeys_of_token(backend, access_token):
    """The passkey list of the user a live access token belongs to (NotAuthorizedException
    otherwise, as AWS answers a revoked or unknown token)."""
    user, pool = _user_of(backend, access_token, None)
    return PASSKEYS.setdefault((pool.id, user.username), [])


def list_web_authn_credentials_response(self):
    credentials = _passkeys_of_token(self.backend, self._get_param("AccessToken"))
    limit = int(self._get_param("MaxResults") or 20)
    if not 1 <= limit <= 20:
        raise InvalidParameterException("MaxResults must be between 1 and 20")
    start = int(self._get_param("NextToken") or 0)
    answer = {"Credentials": credentials[start : start + limit]}
    if start + limit < len(credentials):
        answer["NextToken"] = str(start + limit)
    return json.dumps(answer)


def delete_web_authn_credential_response(self):
    credentials = _passkeys_of_token(self.backend, self._get_param("AccessToken"))
    wanted = self._get_param("CredentialId")
    kept = [c for c in credentials if c["CredentialId"] != wanted]
    if len(kept) == len(credentials):
        raise ResourceNotFoundError("Credential not found.")
    credentials[:] = kept
    return "{}"


CognitoIdpResponse.list_web_authn_credentials = list_web_authn_credentials_response
CognitoIdpResponse.delete_web_authn_credential = delete_web_authn_credential_response


def admin_get_user_auth_factors_response(self):
    pool_id = self._get_param("UserPoolId")
    user = self.backend.admin_get_user(pool_id, self._get_param("Username"))
    mfa = []
    if user.software_token_mfa_enabled:
        mfa.append("SOFTWARE_TOKEN_MFA")
    if user.sms_mfa_enabled:
        mfa.append("SMS_MFA")
    if getattr(user, "email_mfa_enabled", False):
        mfa.append("EMAIL_OTP")
    configured = ["PASSWORD"]
    if user.sms_mfa_enabled:
        configured.append("SMS_OTP")
    if PASSKEYS.get((pool_id, user.username)):
        configured.append("WEB_AUTHN")
    answer = {"Username": user.username, "UserMFASettingList": mfa,
              "ConfiguredUserAuthFactors": configured}
    if user.preferred_mfa_setting:
        answer["PreferredMfaSetting"] = user.preferred_mfa_setting
    return json.dumps(answer)


CognitoIdpResponse.admin_get_user_auth_factors = admin_get_user_auth_factors_response
SNSResponse.get_sms_sandbox_account_status = lambda self: ActionResult(
    {"IsInSandbox": _access_key(self) in SMS_SANDBOXED_KEYS}
)
CognitoIdpResponse.admin_list_devices = admin_list_devices_response
CognitoIdpResponse.admin_forget_device = admin_forget_device_response


def _remember_devices(pool_id, username, count):
    backend = next(
        b for account in cognito_models.cognitoidp_backends.values() for b in account.values()
        if pool_id in b.user_pools
    )
    devices = _devices(backend, pool_id, username)
    for n in range(count):
        key = f"{backend.region_name}_{secrets.token_hex(16)}"
        devices[key] = {
            "DeviceKey": key,
            "DeviceAttributes": [
                {"Name": "device_status", "Value": "valid"},
                {"Name": "device_name", "Value": f"device {len(devices) + 1}"},
                {"Name": "dev:device_remembered_status", "Value": "remembered"},
            ],
            "DeviceCreateDate": 1.7e9,
            "DeviceLastModifiedDate": 1.7e9,
            "DeviceLastAuthenticatedDate": 1.7e9,
        }


def _access_key(request):
    """The access key id a SigV4 request (werkzeug's, or moto's response object) was signed
    with."""
    authorization = request.headers.get("Authorization", "")
    _, _, credential = authorization.partition("Credential=")
    return credential.split("/", 1)[0]


def ses_get_account(request):
    sandbox, sending = SES_ACCOUNTS.get(_access_key(request), (False, True))
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY" if sending else "SHUTDOWN",
        "ProductionAccessEnabled": not sandbox,
        "SendingEnabled": sending,
        "SendQuota": {
            "Max24HourSend": 200.0 if sandbox else 50000.0,
            "MaxSendRate": 1.0 if sandbox else 14.0,
            "SentLast24Hours": 0.0,
        },
    }


def harness(environ, start_response):
    request = Request(environ)
    if request.method == "GET" and request.path == "/v2/email/account":
        body = json.dumps(ses_get_account(request))
        return Response(body, mimetype="application/json")(environ, start_response)
    if request.method == "POST" and request.path.startswith("/_harness/ses/account/"):
        key = request.path[len("/_harness/ses/account/"):]
        SES_ACCOUNTS[key] = (
            request.args.get("sandbox") == "true",
            request.args.get("sending") != "false",
        )
        return Response("{}", mimetype="application/json")(environ, start_response)
    if request.method == "POST" and request.path.startswith("/_harness/sns/sandbox/"):
        SMS_SANDBOXED_KEYS.add(request.path[len("/_harness/sns/sandbox/"):])
        return Response("{}", mimetype="application/json")(environ, start_response)
    if request.path.startswith("/_harness/cognito/") and "/passkeys/" in request.path:
        pool_id, username = request.path[len("/_harness/cognito/"):].split("/passkeys/", 1)
        if request.method == "POST":
            _register_passkey(pool_id, username, request.args.get("name", "Passkey"))
        body = json.dumps(PASSKEYS.get((pool_id, username), []))
        return Response(body, mimetype="application/json")(environ, start_response)
    if request.path.startswith("/_harness/cognito/") and "/live-tokens/" in request.path:
        pool_id, username = request.path[len("/_harness/cognito/"):].split("/live-tokens/", 1)
        live = sum(
            1
            for account in cognito_models.cognitoidp_backends.values()
            for backend in account.values()
            if pool_id in backend.user_pools
            for _, owner in backend.user_pools[pool_id].access_tokens.values()
            if owner == username
        )
        return Response(json.dumps(live), mimetype="application/json")(environ, start_response)
    if request.path.startswith("/_harness/cognito/") and "/devices/" in request.path:
        pool_id, username = request.path[len("/_harness/cognito/"):].split("/devices/", 1)
        if request.method == "POST":
            _remember_devices(pool_id, username, int(request.args.get("count", "1")))
        body = json.dumps(sorted(DEVICES.get((pool_id, username), {})))
        return Response(body, mimetype="application/json")(environ, start_response)
    if request.path == "/_harness/sns/texts":
        texts = [
            {"id": message_id, "phone": phone, "message": message}
            for account_backends in sns_backends.values()
            for backend in account_backends.values()
            for message_id, (phone, message) in backend.sms_messages.items()
        ]
        return Response(json.dumps(texts), mimetype="application/json")(environ, start_response)
    if request.path == "/_harness/ses/messages":
        messages = []
        for account_backends in ses_backends.values():
            for backend in account_backends.values():
                for m in backend.sent_messages:
                    destinations = getattr(m, "destinations", {}) or {}
                    messages.append(
                        {
                            "id": m.id,
                            "source": m.source,
                            "to": destinations.get("ToAddresses", []),
                            "subject": getattr(m, "subject", None),
                            "body": getattr(m, "body", None),
                            "raw": getattr(m, "raw_data", None),
                        }
                    )
        response = Response(json.dumps(messages), mimetype="application/json")
        return response(environ, start_response)
    if request.path.startswith("/_harness/cognito/") and "/mfa-code/" in request.path:
        pool_id, username = request.path[len("/_harness/cognito/"):].split("/mfa-code/", 1)
        sent = MFA_CODES.get((pool_id, username))
        body = json.dumps({"challenge": sent[0], "code": sent[1]} if sent else None)
        return Response(body, mimetype="application/json")(environ, start_response)
    if request.path.startswith("/_harness/cognito/") and "/context-data/" in request.path:
        pool_id, username = request.path[len("/_harness/cognito/"):].split("/context-data/", 1)
        body = json.dumps(CONTEXT_DATA.get((pool_id, username)))
        return Response(body, mimetype="application/json")(environ, start_response)
    if request.method == "POST" and request.path.startswith("/_harness/cognito/") and request.path.endswith("/rotate-secret"):
        # The app client's secret changes under a running service, as when an operator adds a
        # new secret and deletes the old one (AddUserPoolClientSecret, DeleteUserPoolClientSecret).
        pool_id, rest = request.path[len("/_harness/cognito/"):].split("/clients/", 1)
        client_id = rest[: -len("/rotate-secret")]
        for account_backends in cognito_models.cognitoidp_backends.values():
            for backend in account_backends.values():
                pool = backend.user_pools.get(pool_id)
                if pool is not None and client_id in pool.clients:
                    pool.clients[client_id].secret = str(cognito_models.random.uuid4())
        return Response("{}", mimetype="application/json")(environ, start_response)
    prefix, suffix = "/_harness/cognito/", "/without-delete-software-token"
    if request.path.startswith(prefix) and request.path.endswith(suffix):
        POOLS_WITHOUT_DELETE_TOKEN.add(request.path[len(prefix) : -len(suffix)])
        return Response("{}", mimetype="application/json")(environ, start_response)
    return moto_app(environ, start_response)


moto_app = DomainDispatcherApplication(create_backend_app)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    run_simple(
        "127.0.0.1",
        port,
        harness,
        threaded=True,
        request_handler=MotoRequestHandler,
    )
