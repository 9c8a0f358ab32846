//! The events file in pieces of whole lines: one thread reads, the cores judge the pieces in
//! turn (a slow core does not hold up the others), and the caller's thread prints the results
//! in file order as they complete. Reading overlaps judging, and at most a few pieces per core
//! are in memory at once, whatever the size of the file (a piece holds at least one whole
//! line, so a single huge line is held whole).

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Mutex;
use std::sync::mpsc::{channel, sync_channel};

/// About this many bytes of the file, cut at a line end, make one unit of work.
const PIECE_BYTES: usize = 1 << 20;
/// Pieces read but not yet printed, at most, per core.
const IN_FLIGHT_PER_CORE: usize = 4;

/// Consecutive whole lines of the events file; the first is line `first_line` (0-based).
pub struct Piece {
    seq: usize,
    pub first_line: usize,
    pub text: Vec<u8>,
}

impl Piece {
    /// The lines (a final line end does not start another line).
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.text[..];
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            Some(line)
        })
    }
}

/// Reads `input` (named `name` in errors), judges every piece with `judge` on `threads`
/// threads and hands the results to `print` in file order.
pub fn run<R, J, T>(
    input: R,
    name: &str,
    threads: usize,
    judge: J,
    mut print: impl FnMut(T) -> Result<()>,
) -> Result<()>
where
    R: Read + Send,
    J: Fn(&Piece) -> T + Sync,
    T: Send,
{
    let threads = threads.max(1);
    let in_flight = threads * IN_FLIGHT_PER_CORE;
    let (piece_tx, piece_rx) = sync_channel::<Piece>(in_flight);
    let piece_rx = Mutex::new(piece_rx);
    let (done_tx, done_rx) = channel::<(usize, T)>();
    // A token per piece in flight: the reader takes one per piece, the printer gives it back
    // once the piece is printed.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).expect("the token channel has room");
    }
    std::thread::scope(|s| {
        // Owned by this closure, so that returning early (a failed print) drops it and the
        // reader, waiting for a token, stops.
        let token_tx = token_tx;
        let reader = s.spawn(move || {
            read_pieces(input, |piece| {
                token_rx.recv().is_ok() && piece_tx.send(piece).is_ok()
            })
        });
        for _ in 0..threads {
            let (piece_rx, done_tx, judge) = (&piece_rx, done_tx.clone(), &judge);
            s.spawn(move || {
                loop {
                    // The lock is held only to take the next piece.
                    let next = piece_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(piece)) = next else { return };
                    if done_tx.send((piece.seq, judge(&piece))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for (seq, judged) in done_rx {
            pending.insert(seq, judged);
            while let Some(judged) = pending.remove(&next) {
                print(judged)?;
                next += 1;
                // The reader may have stopped; then nobody needs the token.
                let _ = token_tx.send(());
            }
        }
        reader
            .join()
            .expect("the events reader panicked")
            .with_context(|| format!("cannot read {name}"))
    })
}

/// Reads `input` into pieces and hands them to `send` until it returns false.
fn read_pieces(mut input: impl Read, mut send: impl FnMut(Piece) -> bool) -> std::io::Result<()> {
    let (mut seq, mut first_line) = (0, 0);
    let mut carry = Vec::new();
    loop {
        let mut text = std::mem::take(&mut carry);
        let eof = loop {
            let want = (PIECE_BYTES.saturating_sub(text.len()) as u64).max(1);
            let before = text.len();
            (&mut input).take(want).read_to_end(&mut text)?;
            if text.len() == before {
                break true;
            }
            // A piece ends at a line end, so a line longer than a piece makes it longer.
            if text.len() >= PIECE_BYTES && memchr::memchr(b'\n', &text).is_some() {
                break false;
            }
        };
        if !eof {
            let end = memchr::memrchr(b'\n', &text).map_or(text.len(), |i| i + 1);
            carry = text.split_off(end);
        }
        if text.is_empty() {
            return Ok(());
        }
        let lines = memchr::memchr_iter(b'\n', &text).count();
        if !send(Piece {
            seq,
            first_line,
            text,
        }) {
            return Ok(());
        }
        seq += 1;
        first_line += lines;
    }
}
