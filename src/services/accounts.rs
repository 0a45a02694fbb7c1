//! Accounts and sessions: register, sign in, sign out, resolve a session, and the tenant
//! administrator's user management.

use std::time::Duration;

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::sessions::NewSession;
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, is_unique_violation};
use crate::domain::event::DomainEvent;
use crate::domain::password::Verification;
use crate::domain::{Email, Password, SecretToken, UserName, Validator};
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::page;
use crate::services::passwords::Passwords;
use crate::services::two_factor;

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            image_url: row.image_url,
            external_id: row.external_id,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        }
    }
}

/// A signed-in user with the token that proves it. The token is shown to the client once.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub token: SecretToken,
    pub expires_at: i64,
}

/// What a correct password leads to: a session, or, for an account with two-factor sign-in,
/// a challenge to complete with a code (`two_factor::complete_sign_in`).
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    TwoFactorRequired(two_factor::Challenge),
}

/// The caller behind a valid session token.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub tenant_id: String,
    pub user: User,
}

pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: &'a str,
}

struct ValidRegistration {
    email: Email,
    password: Option<Password>,
    name: UserName,
}

fn validate(email: &str, password: Option<&str>, name: &str) -> AppResult<ValidRegistration> {
    let mut v = Validator::default();
    let email = v.field(Email::parse("email", email));
    let password = password.map(|p| v.field(Password::parse("password", p)));
    let name = v.field(UserName::parse("name", name));
    v.finish()?;
    match (email, password, name) {
        (Some(email), None, Some(name)) => Ok(ValidRegistration {
            email,
            password: None,
            name,
        }),
        (Some(email), Some(Some(password)), Some(name)) => Ok(ValidRegistration {
            email,
            password: Some(password),
            name,
        }),
        _ => unreachable!("the validator reports every field that failed to parse"),
    }
}

fn email_taken() -> AppError {
    AppError::Conflict {
        code: "email_taken",
        message: "an account with this email already exists".into(),
    }
}

/// Creates the user and their first session in one transaction.
pub async fn register(
    cx: &Ctx,
    passwords: &Passwords,
    tenant_id: &str,
    input: Registration<'_>,
    session_ttl: Duration,
) -> AppResult<SignedIn> {
    let valid = validate(input.email, Some(input.password), input.name)?;
    let password = valid
        .password
        .clone()
        .expect("registration requires a password");
    let hash = passwords.hash(password).await?;
    let mut tx = cx.begin(tenant_id, None).await?;
    let row = insert_user(&mut tx, tenant_id, &valid, Some(&hash)).await?;
    tx.record(DomainEvent::UserCreated {
        user_id: row.id.clone(),
    });
    let signed_in = start_session(&mut tx, row, session_ttl).await?;
    tx.commit().await?;
    Ok(signed_in)
}

/// Signs in with email and password. Unknown email, missing password and wrong password are
/// indistinguishable to the caller, in answer and in time. Only a right password learns that
/// the account needs a second factor.
pub async fn login(
    cx: &Ctx,
    passwords: &Passwords,
    tenant_id: &str,
    email: &str,
    password: &str,
    session_ttl: Duration,
) -> AppResult<LoginOutcome> {
    let rejected = AppError::Unauthenticated(AuthFailure::InvalidCredentials);
    let candidate = Password::for_login(password);
    let user = match Email::parse("email", email) {
        Ok(email) => db::users::find_by_email(cx.db.read(), tenant_id, email.normalized()).await?,
        Err(_) => None,
    };
    let Some(candidate) = candidate else {
        return Err(rejected);
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verification = passwords.verify(candidate.clone(), stored).await?;
    let user = match (user, verification) {
        (Some(user), Verification::Match) => user,
        (Some(user), Verification::MatchNeedsRehash) => {
            let upgraded = passwords.hash(candidate).await?;
            db::users::set_password_hash(
                cx.db.write(),
                &user.tenant_id,
                &user.id,
                &upgraded,
                now_ms(),
            )
            .await?;
            user
        }
        _ => return Err(rejected),
    };
    if db::two_factor::is_enabled(cx.db.write(), &user.tenant_id, &user.id).await? {
        let challenge = two_factor::issue_challenge(cx, &user.tenant_id, &user.id).await?;
        return Ok(LoginOutcome::TwoFactorRequired(challenge));
    }
    // A session is a credential, not a change to anyone's data: no event.
    let mut tx = cx.begin(&user.tenant_id, Some(&user.id)).await?;
    let signed_in = start_session(&mut tx, user, session_ttl).await?;
    tx.commit().await?;
    Ok(LoginOutcome::SignedIn(signed_in))
}

/// Resolves a bearer token to its live session and user.
pub async fn authenticate(cx: &Ctx, raw_token: &str) -> AppResult<SessionUser> {
    let invalid = AppError::Unauthenticated(AuthFailure::InvalidToken);
    let token = SecretToken::parse(raw_token).ok_or(invalid)?;
    let found = db::sessions::find_live(cx.db.read(), &token.hash(), now_ms())
        .await?
        .ok_or(AppError::Unauthenticated(AuthFailure::InvalidToken))?;
    Ok(SessionUser {
        session_id: found.session_id,
        tenant_id: found.user.tenant_id.clone(),
        user: found.user.into(),
    })
}

/// The user identity sync created for an outside provider's subject `sub`, signed in by that
/// provider's session token (already verified). Not yet synced is an invalid token: the
/// provider's webhook creates the user.
pub async fn authenticate_external(
    cx: &Ctx,
    tenant_id: &str,
    sub: &str,
    provider_session: Option<&str>,
) -> AppResult<SessionUser> {
    let user = db::users::find_by_external_id(cx.db.read(), tenant_id, sub)
        .await?
        .ok_or(AppError::Unauthenticated(AuthFailure::InvalidToken))?;
    Ok(SessionUser {
        session_id: format!("external:{}", provider_session.unwrap_or(sub)),
        tenant_id: tenant_id.to_string(),
        user: user.into(),
    })
}

/// Signs in the user an OpenID Connect provider vouched for (its ID token already checked):
/// the user linked to `(provider, subject)`; the first time, the account with that verified
/// email, or a new one (no password), linked from then on. No email and no link: refused.
/// The provider is the authenticator, so Kanri's own second factor is not asked for.
pub(crate) async fn sign_in_from_provider(
    cx: &Ctx,
    tenant_id: &str,
    provider: &str,
    subject: &str,
    verified_email: Option<&str>,
    name: &str,
    session_ttl: Duration,
) -> AppResult<SignedIn> {
    let now = now_ms();
    let mut tx = cx.begin(tenant_id, None).await?;
    let linked = db::oidc::linked_user(&mut *tx, tenant_id, provider, subject).await?;
    let user = match linked {
        Some(id) => db::users::find(&mut *tx, tenant_id, &id)
            .await?
            .ok_or(AppError::Unauthenticated(AuthFailure::SingleSignOnFailed))?,
        None => {
            let Some(email) = verified_email else {
                return Err(AppError::Forbidden(
                    "the identity provider did not give a verified email for this account",
                ));
            };
            let email = Email::parse("email", email)?;
            let user =
                match db::users::find_by_email(&mut *tx, tenant_id, email.normalized()).await? {
                    Some(user) => user,
                    None => {
                        let name = UserName::parse("name", name)
                            .or_else(|_| UserName::parse("name", "Member"))?;
                        let valid = ValidRegistration {
                            email,
                            password: None,
                            name,
                        };
                        let row = insert_user(&mut tx, tenant_id, &valid, None).await?;
                        tx.record(DomainEvent::UserCreated {
                            user_id: row.id.clone(),
                        });
                        row
                    }
                };
            db::oidc::link(&mut *tx, tenant_id, provider, subject, &user.id, now).await?;
            user
        }
    };
    let signed_in = start_session(&mut tx, user, session_ttl).await?;
    tx.commit().await?;
    Ok(signed_in)
}

pub async fn logout(cx: &Ctx, session: &SessionUser) -> AppResult<()> {
    db::sessions::delete(cx.db.write(), &session.tenant_id, &session.session_id).await?;
    Ok(())
}

pub struct NewUserInput<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: Option<&'a str>,
}

/// Creates a user without a session (administration and imports). Without a password the user
/// cannot sign in with one until it is set.
pub async fn create_user(
    cx: &Ctx,
    passwords: &Passwords,
    tenant_id: &str,
    input: NewUserInput<'_>,
) -> AppResult<User> {
    let valid = validate(input.email, input.password, input.name)?;
    let hash = match valid.password.clone() {
        Some(p) => Some(passwords.hash(p).await?),
        None => None,
    };
    let mut tx = cx.begin(tenant_id, None).await?;
    let row = insert_user(&mut tx, tenant_id, &valid, hash.as_deref()).await?;
    tx.record(DomainEvent::UserCreated {
        user_id: row.id.clone(),
    });
    tx.commit().await?;
    Ok(row.into())
}

pub async fn get_user(cx: &Ctx, tenant_id: &str, user_id: &str) -> AppResult<User> {
    db::users::find(cx.db.read(), tenant_id, user_id)
        .await?
        .map(User::from)
        .ok_or(AppError::NotFound("user"))
}

/// A page of users and the id to continue after, if there may be more.
pub async fn list_users(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<User>, Option<String>)> {
    let rows =
        db::users::list_page(cx.db.read(), tenant_id, after_id, page::fetch_size(limit)).await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(User::from).collect(), next))
}

/// Deletes a user and, through foreign keys, their sessions.
pub async fn delete_user(cx: &Ctx, tenant_id: &str, user_id: &str) -> AppResult<()> {
    let mut tx = cx.begin(tenant_id, None).await?;
    if !db::users::delete(&mut *tx, tenant_id, user_id).await? {
        return Err(AppError::NotFound("user"));
    }
    // Their memberships, leads and assignments went with them, in every workspace: the
    // event's cache scope is the tenant.
    tx.record(DomainEvent::UserDeleted {
        user_id: user_id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    tenant_id: &str,
    valid: &ValidRegistration,
    password_hash: Option<&str>,
) -> AppResult<UserRow> {
    let id = new_id();
    let now = now_ms();
    let new = NewUser {
        id: &id,
        tenant_id,
        email: valid.email.as_str(),
        email_normalized: valid.email.normalized(),
        name: valid.name.as_str(),
        password_hash,
        now,
    };
    db::users::insert(&mut *tx, &new).await.map_err(|e| {
        if is_unique_violation(&e) {
            email_taken()
        } else {
            e.into()
        }
    })?;
    Ok(UserRow {
        id,
        tenant_id: tenant_id.to_string(),
        email: valid.email.as_str().to_string(),
        name: valid.name.as_str().to_string(),
        image_url: None,
        password_hash: password_hash.map(str::to_string),
        external_id: None,
        created_at: now,
        updated_at: now,
    })
}

/// A new session for `user`, in the caller's transaction.
pub(crate) async fn start_session(
    tx: &mut sqlx::AnyConnection,
    user: UserRow,
    ttl: Duration,
) -> AppResult<SignedIn> {
    let token = SecretToken::generate();
    let now = now_ms();
    let expires_at = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
    let id = new_id();
    db::sessions::insert(
        &mut *tx,
        &NewSession {
            id: &id,
            tenant_id: &user.tenant_id,
            user_id: &user.id,
            token_hash: &token.hash(),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(SignedIn {
        user: user.into(),
        token,
        expires_at,
    })
}
