//! A multi-row INSERT prepared on a locked SQLite handle and executed per group of rows,
//! binding texts without copying them.
//!
//! Why not sqlx for ingest's events: sqlx copies every text argument into its own buffers,
//! binds it as transient (SQLite copies it again), clears every binding after each statement
//! and hands each statement to its worker thread; with several texts per event, that was a
//! large part of the writer's time. Here a text is bound as static: SQLite reads it in place.
//! That is sound because SQLite reads a binding only while stepping, and [`RawInsert::insert`]
//! binds every placeholder before it steps: a text left bound after its borrow ended is never
//! read, only replaced (or dropped with the statement).
//!
//! Rows per statement matter: each statement execution has a fixed cost (cursors, the
//! AUTOINCREMENT counter), while preparing a long statement costs in proportion to its length.
//!
//! All the unsafe code of the crate's SQL writing is in this module.

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};

/// A value bound to one placeholder.
#[derive(Clone, Copy)]
pub enum Param<'a> {
    Int(i64),
    Text(Option<&'a str>),
}

/// SQLite refused a statement: its result code and message.
#[derive(Debug, thiserror::Error)]
#[error("SQLite error {code} {doing}: {message}")]
pub struct SqliteError {
    code: c_int,
    doing: &'static str,
    message: String,
}

/// A prepared statement, borrowed from the handle it was prepared on (so that the handle, and
/// the sqlx connection behind it, cannot be used or dropped while it exists).
pub struct RawInsert<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    _handle: std::marker::PhantomData<&'h mut ()>,
}

impl<'h> RawInsert<'h> {
    pub fn prepare(
        handle: &'h mut LockedSqliteHandle<'_>,
        sql: &str,
    ) -> Result<RawInsert<'h>, SqliteError> {
        let db = handle.as_raw_handle();
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).expect("a statement of our own is short");
        // SAFETY: `db` is an open connection the lock gives us alone; `sql` is valid for `len`
        // bytes (it need not be NUL-terminated when a length is given).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(RawInsert {
                db,
                stmt,
                _handle: std::marker::PhantomData,
            }),
            _ => Err(error(db, rc, "preparing")),
        }
    }

    /// Executes the statement with `params` (every placeholder, in order) and returns the rowid
    /// of the last row inserted.
    pub fn insert(&mut self, params: &[Param<'_>]) -> Result<i64, SqliteError> {
        let s = self.stmt.as_ptr();
        // SAFETY: a live statement.
        let wanted = unsafe { ffi::sqlite3_bind_parameter_count(s) };
        if params.len() != wanted as usize {
            return Err(SqliteError {
                code: ffi::SQLITE_RANGE,
                doing: "binding",
                message: format!("{} values for {wanted} placeholders", params.len()),
            });
        }
        let mut result = Ok(());
        for (i, p) in params.iter().enumerate() {
            let at = i as c_int + 1;
            // SAFETY: `s` is a live statement; a text bound as static is read only by the step
            // below, while `params` is borrowed (see the module comment).
            let rc = unsafe {
                match *p {
                    Param::Int(v) => ffi::sqlite3_bind_int64(s, at, v),
                    Param::Text(None) => ffi::sqlite3_bind_null(s, at),
                    Param::Text(Some(t)) => ffi::sqlite3_bind_text64(
                        s,
                        at,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                result = Err(error(self.db, rc, "binding"));
                break;
            }
        }
        if result.is_ok() {
            // SAFETY: a live statement with every placeholder bound.
            let rc = unsafe { ffi::sqlite3_step(s) };
            if rc != ffi::SQLITE_DONE {
                result = Err(error(self.db, rc, "inserting"));
            }
        }
        // SAFETY: a live statement; resetting keeps the bindings, which the next call replaces.
        unsafe { ffi::sqlite3_reset(s) };
        result?;
        // SAFETY: the open connection the statement was prepared on.
        Ok(unsafe { ffi::sqlite3_last_insert_rowid(self.db.as_ptr()) })
    }
}

impl Drop for RawInsert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is finalised once, here, while its connection is still locked.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

fn error(db: NonNull<ffi::sqlite3>, code: c_int, doing: &'static str) -> SqliteError {
    // SAFETY: `db` is open; the message is NUL-terminated and copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    SqliteError {
        code,
        doing,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn inserts_groups_of_rows_with_borrowed_texts_and_reports_errors() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, s TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        {
            let mut handle = conn.lock_handle().await.unwrap();
            let mut ins =
                RawInsert::prepare(&mut handle, "INSERT INTO t (n, s) VALUES (?, ?), (?, ?)")
                    .unwrap();
            for i in 0..2 {
                // Fresh texts each group, dropped right after the insert: the next group
                // binds over them before anything reads a binding again.
                let (a, b) = (format!("row {}", 2 * i), format!("row {}", 2 * i + 1));
                let params = [
                    Param::Int(2 * i),
                    Param::Text(Some(&a)),
                    Param::Int(2 * i + 1),
                    Param::Text(Some(&b)),
                ];
                assert_eq!(ins.insert(&params).unwrap(), 2 * i + 2, "last rowid");
            }
            let nulls = [
                Param::Int(9),
                Param::Text(None),
                Param::Int(10),
                Param::Text(None),
            ];
            assert_eq!(ins.insert(&nulls).unwrap(), 6);
            let e = ins.insert(&[Param::Int(1), Param::Text(None)]).unwrap_err();
            assert!(e.to_string().contains("2 values for 4 placeholders"), "{e}");
            let missing = [Param::Text(None); 4];
            let e = ins.insert(&missing).unwrap_err();
            assert!(e.to_string().contains("NOT NULL"), "{e}");
            drop(ins);
            let bad = RawInsert::prepare(&mut handle, "INSERT INTO nowhere VALUES (1)");
            assert!(bad.err().unwrap().to_string().contains("no such table"));
        }
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT n, s FROM t ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let want = [
            (0, Some("row 0")),
            (1, Some("row 1")),
            (2, Some("row 2")),
            (3, Some("row 3")),
            (9, None),
            (10, None),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(n, s)| (*n, s.map(String::from)))
            .collect();
        assert_eq!(rows, want);
    }
}
