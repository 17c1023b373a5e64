//! Several writes sent to PostgreSQL as one statement (data-modifying `WITH` parts): one round
//! trip instead of one per write plus `BEGIN` and `COMMIT`. Outside a transaction the statement
//! is its own transaction, so its writes commit together or not at all; inside one, they join it.
//! Each store module adds its own writes (`recoveries::insert`, `jobs::enqueue_with`,
//! `audit::insert_pending_with`, `limits::hit_with`), so that a table's SQL stays in its module.

use sqlx::{PgConnection, Postgres, QueryBuilder};

pub struct Writes<'a> {
    sql: QueryBuilder<'a, Postgres>,
    count: usize,
    /// Writes added from now on happen only when this write's `hits` is at most this limit.
    within: Option<(usize, i64)>,
    /// The write whose `RETURNING` row the statement answers with.
    answer: Option<usize>,
}

impl Default for Writes<'_> {
    fn default() -> Self {
        Self {
            sql: QueryBuilder::new("WITH "),
            count: 0,
            within: None,
            answer: None,
        }
    }
}

impl<'a> Writes<'a> {
    /// Adds one write and returns its number. `write` pushes one `INSERT ... SELECT <values>`
    /// (no `FROM`, no `WHERE`: a condition set by `only_within` may follow it).
    pub(super) fn add(&mut self, write: impl FnOnce(&mut QueryBuilder<'a, Postgres>)) -> usize {
        if self.count > 0 {
            self.sql.push(", ");
        }
        self.sql.push(format_args!("write{} AS (", self.count));
        write(&mut self.sql);
        if let Some((counter, limit)) = self.within {
            self.sql
                .push(format_args!(" WHERE (SELECT hits FROM write{counter}) <= "))
                .push_bind(limit);
        }
        self.sql.push(")");
        self.count += 1;
        self.count - 1
    }

    /// Writes added from now on happen only when write `counter` (one returning `hits`) counted
    /// at most `limit`; the statement answers with that write's row.
    pub(super) fn only_within(&mut self, counter: usize, limit: i64) {
        self.within = Some((counter, limit));
        self.answer = Some(counter);
    }

    /// Sends every write added, as one statement.
    pub async fn execute(mut self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.count == 0 {
            return Ok(());
        }
        self.sql.push(" SELECT 1");
        self.sql.build().execute(conn).await?;
        Ok(())
    }

    /// Sends every write added, as one statement, and returns every row write `write` returned.
    pub(super) async fn execute_returning<T>(
        mut self,
        conn: &mut PgConnection,
        write: usize,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        self.sql.push(format_args!(" SELECT * FROM write{write}"));
        self.sql.build_query_as::<T>().fetch_all(conn).await
    }

    /// Sends every write added, as one statement, and returns the row of the write named by
    /// `only_within`.
    pub(super) async fn execute_answering<T>(
        mut self,
        conn: &mut PgConnection,
    ) -> Result<T, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let answer = self.answer.expect("only_within names the answering write");
        self.sql.push(format_args!(" SELECT * FROM write{answer}"));
        self.sql.build_query_as::<T>().fetch_one(conn).await
    }
}
