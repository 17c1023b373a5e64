//! Who caused something: who started a recovery (`Initiator`, stored with it) and who caused an
//! audit event (`Actor`, which may also be the service itself).

use super::StaffName;

/// Who started a recovery. Stored as `user` or `staff:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    User,
    Staff(StaffName),
}

const STAFF_PREFIX: &str = "staff:";

impl Initiator {
    /// As stored and shown: `user` or `staff:<name>`.
    pub fn stored(&self) -> String {
        match self {
            Self::User => "user".to_owned(),
            Self::Staff(name) => format!("{STAFF_PREFIX}{}", name.as_str()),
        }
    }

    /// The metrics label: `user` or `staff` (never a name).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Staff(_) => "staff",
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Self::User => Actor::User,
            Self::Staff(name) => Actor::Staff(name.clone()),
        }
    }

    fn parse(stored: &str) -> Result<Self, String> {
        match stored.strip_prefix(STAFF_PREFIX) {
            Some(name) => Ok(Self::Staff(StaffName::parse(name)?)),
            None if stored == "user" => Ok(Self::User),
            None => Err(format!("unknown initiator `{stored}`")),
        }
    }
}

/// Who caused an event: the end user, a staff member, or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User,
    Staff(StaffName),
    System,
}

impl Actor {
    /// As written in the audit log: `user`, `staff:<name>` or `system`.
    pub fn as_audit_string(&self) -> String {
        match self {
            Actor::User => "user".to_owned(),
            Actor::Staff(name) => format!("{STAFF_PREFIX}{}", name.as_str()),
            Actor::System => "system".to_owned(),
        }
    }
}

impl sqlx::Type<sqlx::Postgres> for Initiator {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Postgres> for Initiator {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Postgres>>::encode(self.stored(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for Initiator {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let stored = <&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?;
        Ok(Self::parse(stored)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initiators_round_trip_through_their_stored_form() {
        let staff = Initiator::Staff(StaffName::parse("jane.doe").unwrap());
        for i in [Initiator::User, staff] {
            assert_eq!(Initiator::parse(&i.stored()), Ok(i.clone()));
            assert_eq!(i.actor().as_audit_string(), i.stored());
        }
        assert!(Initiator::parse("system").is_err());
        assert_eq!(Initiator::User.kind(), "user");
    }
}
