"""Seeds the AWS emulator the way an operator sets up AWS: a user pool with TOTP MFA, an app
client allowing ADMIN_USER_PASSWORD_AUTH, a verified SES sender, and users (with or without a
TOTP authenticator). Used by scripts/dev.sh (demo) and scripts/bench-enumeration.sh."""

import sys
import time

import boto3


def totp_code(secret):
    """The current 6-digit code of an authenticator holding `secret` (RFC 6238, as Cognito)."""
    from moto.cognitoidp.utils import cognito_totp

    return cognito_totp(secret.replace(" ", "")).generate(int(time.time())).decode("ascii")


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("cognito-idp", **kw), boto3.client("sesv2", **kw)


def seed_pool(endpoint, sender, mfa="ON"):
    """Returns (idp client, pool id, app client id)."""
    idp, ses = clients(endpoint)
    ses.create_email_identity(EmailIdentity=sender)
    pool = idp.create_user_pool(PoolName="demo", MfaConfiguration=mfa)["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration=mfa,
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="mfa-recovery",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return idp, pool, client


def create_user(idp, pool, client, username, email, password, totp=True):
    idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    if not totp:
        return
    # Enrol a TOTP authenticator the way an app does: MFA_SETUP, associate, verify, prefer.
    auth = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": username, "PASSWORD": password})
    associated = idp.associate_software_token(Session=auth["Session"])
    idp.verify_software_token(Session=associated["Session"],
                              UserCode=totp_code(associated["SecretCode"]))
    idp.admin_set_user_mfa_preference(UserPoolId=pool, Username=username,
                                      SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})


if __name__ == "__main__":
    if sys.argv[1] == "totp":
        # totp KEY: what an authenticator app holding KEY shows now.
        print(totp_code("".join(sys.argv[2:])))
        sys.exit(0)
    # demo ENDPOINT SENDER: one user "demo" with TOTP; prints exports for the service.
    _, endpoint, sender = sys.argv[1:4]
    idp, pool, client = seed_pool(endpoint, sender)
    create_user(idp, pool, client, "demo", "demo@example.com", "Demo-Passw0rd!")
    print(f"export COGNITO_USER_POOL_ID={pool}")
    print(f"export COGNITO_CLIENT_ID={client}")
