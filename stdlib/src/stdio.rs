//! Streams with C stdio's semantics, as C Lua's liolib.c sees them through glibc's `FILE`:
//! one buffer per stream for its whole life, shared by every kind of read and write, so
//! that reads after partial reads, `ungetc` (one character pushed back by `read("n")`),
//! seeking after buffered reads and mixing reads and writes on "r+" files all behave as
//! they do in C; `fflush(NULL)` (before `popen` and at exit) through a process-wide list
//! of open streams; and the standard streams, shared by every runtime of the process as C's
//! `stdin`/`stdout`/`stderr` are (`print` writes through the same `stdout` buffer as
//! `io.write`).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::process::{ChildStdin, ChildStdout};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// The C library's error numbers the streams report themselves (`strerror` gives their text
/// through `io::Error`): Linux's, and WASI's where they differ.
pub(crate) mod errno {
    /// Bad file descriptor.
    pub const EBADF: i32 = if cfg!(target_os = "wasi") { 8 } else { 9 };
    /// No child processes (`pclose` of a pipe whose process is gone).
    pub const ECHILD: i32 = if cfg!(target_os = "wasi") { 12 } else { 10 };
    /// Invalid argument.
    pub const EINVAL: i32 = if cfg!(target_os = "wasi") { 28 } else { 22 };
    /// Illegal seek.
    pub const ESPIPE: i32 = if cfg!(target_os = "wasi") { 70 } else { 29 };
}
use errno::{EBADF, EINVAL, ESPIPE};

/// How a stream's writes are buffered (`setvbuf`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BufMode {
    /// `_IONBF`: every write goes out at once (and reads take one byte at a time).
    No,
    /// `_IOFBF`: writes go out when the buffer is full (or on flush, seek, read, close).
    Full,
    /// `_IOLBF`: writes go out at each newline too.
    Line,
}

/// What a stream reads from and writes to.
pub(crate) enum Raw {
    /// A file opened by name (or `tmpfile`).
    File(File),
    /// A standard descriptor (0, 1 or 2), never closed by us.
    #[cfg(unix)]
    Std(std::mem::ManuallyDrop<File>),
    #[cfg(not(unix))]
    Stdin(io::Stdin),
    #[cfg(not(unix))]
    Stdout(io::Stdout),
    #[cfg(not(unix))]
    Stderr(io::Stderr),
    /// The read end of a `popen(cmd, "r")` pipe.
    PipeIn(ChildStdout),
    /// The write end of a `popen(cmd, "w")` pipe.
    PipeOut(ChildStdin),
    /// A closed (or never opened) descriptor: every operation fails with EBADF.
    Bad,
}

fn os_err(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl Raw {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let r = match self {
                Raw::File(f) => f.read(buf),
                #[cfg(unix)]
                Raw::Std(f) => f.read(buf),
                #[cfg(not(unix))]
                Raw::Stdin(s) => s.read(buf),
                Raw::PipeIn(p) => p.read(buf),
                _ => Err(os_err(EBADF)),
            };
            match r {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Raw::File(f) => f.write_all(data),
            #[cfg(unix)]
            Raw::Std(f) => f.write_all(data),
            #[cfg(not(unix))]
            Raw::Stdout(s) => s.write_all(data).and_then(|_| s.flush()),
            #[cfg(not(unix))]
            Raw::Stderr(s) => s.write_all(data),
            Raw::PipeOut(p) => p.write_all(data),
            _ => Err(os_err(EBADF)),
        }
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Raw::File(f) => f.seek(pos),
            #[cfg(unix)]
            Raw::Std(f) => f.seek(pos),
            Raw::Bad => Err(os_err(EBADF)),
            _ => Err(os_err(ESPIPE)),
        }
    }

    /// The buffer size glibc would choose: the file system's block size, at most BUFSIZ.
    fn block_size(&self) -> usize {
        const BUFSIZ: usize = 8192;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = match self {
                Raw::File(f) => f.metadata().ok(),
                Raw::Std(f) => f.metadata().ok(),
                // Pipes: st_blksize is the page size.
                _ => return 4096,
            };
            match m {
                Some(m) if m.blksize() > 0 && (m.blksize() as usize) < BUFSIZ => {
                    m.blksize() as usize
                }
                _ => BUFSIZ,
            }
        }
        #[cfg(not(unix))]
        BUFSIZ
    }

    /// A terminal: glibc makes such a stream line-buffered.
    fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            Raw::File(f) => f.is_terminal(),
            #[cfg(unix)]
            Raw::Std(f) => f.is_terminal(),
            #[cfg(not(unix))]
            Raw::Stdin(s) => s.is_terminal(),
            #[cfg(not(unix))]
            Raw::Stdout(s) => s.is_terminal(),
            _ => false,
        }
    }
}

/// A `FILE`: one buffer shared by reads (bytes read ahead, `rbuf[rpos..]`) and writes
/// (`wbuf`, written out at the logical position), the end-of-file and error indicators.
pub(crate) struct CFile {
    raw: Raw,
    can_read: bool,
    can_write: bool,
    /// Opened with O_APPEND: writes go to the end whatever the position.
    append: bool,
    rbuf: Vec<u8>,
    rpos: usize,
    wbuf: Vec<u8>,
    mode: BufMode,
    size: usize,
    /// The end-of-file indicator (sticky until `clearerr`, a seek or `ungetc`, as glibc's).
    eof: bool,
    /// The error indicator and the error that set it.
    error: Option<io::Error>,
}

impl CFile {
    pub(crate) fn new(raw: Raw, can_read: bool, can_write: bool, append: bool) -> CFile {
        let size = raw.block_size();
        let mode = if raw.is_terminal() {
            BufMode::Line
        } else {
            BufMode::Full
        };
        CFile {
            raw,
            can_read,
            can_write,
            append,
            rbuf: Vec::new(),
            rpos: 0,
            wbuf: Vec::new(),
            mode,
            size,
            eof: false,
            error: None,
        }
    }

    /// Bytes read ahead and not consumed.
    fn unread(&self) -> usize {
        self.rbuf.len() - self.rpos
    }

    /// `clearerr`.
    pub(crate) fn clear_err(&mut self) {
        self.eof = false;
        self.error = None;
    }

    /// `ferror`: the error that set the error indicator.
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        let copy = match e.raw_os_error() {
            Some(c) => os_err(c),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        self.error = Some(copy);
        e
    }

    /// Writes out the pending output.
    fn flush_write(&mut self) -> io::Result<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.wbuf);
        let r = self.raw.write_all(&data);
        let mut data = data;
        data.clear();
        self.wbuf = data;
        r.map_err(|e| self.fail(e))
    }

    /// Makes bytes available to read; false at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        if self.rpos < self.rbuf.len() {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if !self.can_read {
            return Err(self.fail(os_err(EBADF)));
        }
        // Switching from writing to reading writes out the pending output.
        self.flush_write()?;
        if self.mode != BufMode::Full {
            // glibc flushes a line-buffered stdout before reading a line-buffered or
            // unbuffered stream (a prompt written with io.write shows before io.read).
            flush_stdout_if_line_buffered();
        }
        let n = if self.mode == BufMode::No {
            1
        } else {
            self.size
        };
        self.rbuf.resize(n, 0);
        self.rpos = 0;
        match self.raw.read(&mut self.rbuf) {
            Ok(k) => {
                self.rbuf.truncate(k);
                if k == 0 {
                    self.eof = true;
                }
                Ok(k > 0)
            }
            Err(e) => {
                self.rbuf.clear();
                Err(self.fail(e))
            }
        }
    }

    /// `getc`.
    pub(crate) fn getc(&mut self) -> io::Result<Option<u8>> {
        if !self.fill()? {
            return Ok(None);
        }
        let c = self.rbuf[self.rpos];
        self.rpos += 1;
        Ok(Some(c))
    }

    /// `ungetc(c)`; `None` (EOF) is a no-op.
    pub(crate) fn ungetc(&mut self, c: Option<u8>) {
        let Some(c) = c else { return };
        if self.rpos > 0 {
            self.rpos -= 1;
            self.rbuf[self.rpos] = c;
        } else {
            self.rbuf.insert(0, c);
        }
        self.eof = false;
    }

    /// Reads up to a newline (included in `out` when `keep`); the newline, if any, is
    /// consumed. Returns whether a newline was found.
    pub(crate) fn read_line(&mut self, out: &mut Vec<u8>, keep: bool) -> io::Result<bool> {
        while self.fill()? {
            let avail = &self.rbuf[self.rpos..];
            match avail.iter().position(|&c| c == b'\n') {
                Some(p) => {
                    out.extend_from_slice(&avail[..if keep { p + 1 } else { p }]);
                    self.rpos += p + 1;
                    return Ok(true);
                }
                None => {
                    out.extend_from_slice(avail);
                    self.rpos = self.rbuf.len();
                }
            }
        }
        Ok(false)
    }

    /// `fread` of up to `n` bytes (fewer only at the end of the file or on an error).
    pub(crate) fn read_chars(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        let mut want = n;
        while want > 0 && self.fill()? {
            let avail = &self.rbuf[self.rpos..];
            let k = avail.len().min(want);
            out.extend_from_slice(&avail[..k]);
            self.rpos += k;
            want -= k;
        }
        Ok(())
    }

    /// Reads to the end of the file.
    pub(crate) fn read_all(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        while self.fill()? {
            out.extend_from_slice(&self.rbuf[self.rpos..]);
            self.rpos = self.rbuf.len();
        }
        Ok(())
    }

    /// `fwrite`.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.can_write {
            return Err(self.fail(os_err(EBADF)));
        }
        if self.rpos < self.rbuf.len() && !self.append {
            // Switching from reading to writing: the write goes where reading stopped, so
            // the descriptor moves back over what was read ahead.
            let back = -(self.unread() as i64);
            if let Err(e) = self.raw.seek(SeekFrom::Current(back)) {
                return Err(self.fail(e));
            }
        }
        self.rbuf.clear();
        self.rpos = 0;
        self.wbuf.extend_from_slice(data);
        match self.mode {
            BufMode::No => self.flush_write(),
            BufMode::Line => {
                // Out goes everything up to the last newline, and the rest too if it
                // fills the buffer.
                if data.contains(&b'\n') {
                    let p = self.wbuf.iter().rposition(|&c| c == b'\n').unwrap_or(0);
                    let rest = self.wbuf.split_off(p + 1);
                    let r = self.flush_write();
                    self.wbuf = rest;
                    r?;
                }
                if self.wbuf.len() >= self.size {
                    self.flush_write()?;
                }
                Ok(())
            }
            BufMode::Full if self.wbuf.len() >= self.size => self.flush_write(),
            BufMode::Full => Ok(()),
        }
    }

    /// `fflush`: writes out pending output; on a stream being read, gives the bytes read
    /// ahead back to the descriptor when it can seek (as glibc does).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.flush_write()?;
        let unread = self.unread();
        if unread > 0 {
            match self.raw.seek(SeekFrom::Current(-(unread as i64))) {
                Ok(_) => {
                    self.rbuf.clear();
                    self.rpos = 0;
                }
                Err(e) if e.raw_os_error() == Some(ESPIPE) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    /// `fseeko` then `ftell`: the new position.
    pub(crate) fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.flush_write()?;
        let pos = match pos {
            SeekFrom::Current(off) => match off.checked_sub(self.unread() as i64) {
                Some(o) => SeekFrom::Current(o),
                None => return Err(os_err(EINVAL)),
            },
            p => p,
        };
        let p = self.raw.seek(pos)?;
        self.rbuf.clear();
        self.rpos = 0;
        self.eof = false;
        Ok(p)
    }

    /// `setvbuf(f, NULL, mode, size)` (the size of an allocated buffer stays, as in glibc).
    pub(crate) fn set_mode(&mut self, mode: BufMode) -> io::Result<()> {
        if mode == BufMode::No {
            self.flush_write()?;
            // glibc's unbuffered stream gets a one-byte buffer, which it keeps when made
            // buffered again (setvbuf with no buffer of its own keeps the one it has).
            self.size = 1;
        }
        self.mode = mode;
        Ok(())
    }

    /// `fclose` (`pclose` waits for the process afterwards): writes out pending output and
    /// closes the descriptor.
    pub(crate) fn close(&mut self) -> io::Result<()> {
        let r = self.flush_write();
        self.rbuf = Vec::new();
        self.rpos = 0;
        self.raw = Raw::Bad;
        self.can_read = false;
        self.can_write = false;
        r
    }
}

impl Drop for CFile {
    fn drop(&mut self) {
        // A stream never closed still gets its output written (C's exit closes streams).
        let _ = self.flush_write();
    }
}

/// A stream shared between its Lua handle and the list of open streams.
pub(crate) type Shared = Arc<Mutex<CFile>>;

/// Locks a stream (a poisoned lock is taken over: the stream itself stays consistent).
pub(crate) fn lock(s: &Shared) -> MutexGuard<'_, CFile> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every stream opened (standard streams included), for `fflush(NULL)`.
static OPEN: Mutex<Vec<Weak<Mutex<CFile>>>> = Mutex::new(Vec::new());

/// Makes `f` a shared stream, known to [`flush_all`].
pub(crate) fn register(f: CFile) -> Shared {
    let s = Arc::new(Mutex::new(f));
    let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
    open.retain(|w| w.strong_count() > 0);
    open.push(Arc::downgrade(&s));
    s
}

/// `fflush(NULL)`: writes out the pending output of every open stream (C Lua's `popen`
/// does it first; C's `exit` does it last). A stream another thread is using is skipped.
pub fn flush_all() {
    let streams: Vec<Shared> = {
        let open = match OPEN.try_lock() {
            Ok(o) => o,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        open.iter().filter_map(Weak::upgrade).collect()
    };
    for s in streams {
        if let Ok(mut f) = s.try_lock() {
            let _ = f.flush_write();
        }
    }
}

#[cfg(unix)]
fn std_raw(fd: i32) -> Raw {
    use std::os::fd::FromRawFd;
    // SAFETY: fcntl(F_GETFD) only queries the descriptor's flags; it fails on a closed one.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Raw::Bad;
    }
    // SAFETY: `fd` is open (checked above) and stays open for the life of the process: the
    // `File` is never dropped (ManuallyDrop), so it never closes the descriptor.
    Raw::Std(std::mem::ManuallyDrop::new(unsafe {
        File::from_raw_fd(fd)
    }))
}

#[cfg(unix)]
extern "C" fn flush_at_exit() {
    flush_all();
}

/// stdin, stdout and stderr, made when first used.
static STD: [OnceLock<Shared>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

fn standard(which: usize) -> &'static Shared {
    STD[which].get_or_init(|| {
        #[cfg(unix)]
        let raw = std_raw(which as i32);
        #[cfg(not(unix))]
        let raw = match which {
            0 => Raw::Stdin(io::stdin()),
            1 => Raw::Stdout(io::stdout()),
            _ => Raw::Stderr(io::stderr()),
        };
        let mut f = CFile::new(raw, which == 0, which != 0, false);
        if which == 2 {
            f.mode = BufMode::No;
        }
        if which == 1 {
            #[cfg(unix)]
            {
                static AT_EXIT: std::sync::Once = std::sync::Once::new();
                AT_EXIT.call_once(|| {
                    // SAFETY: registers a function with C linkage that never unwinds
                    // (flush_all ignores errors and only try-locks) to run at exit(), as
                    // C's exit() flushes stdout's buffer.
                    unsafe { libc::atexit(flush_at_exit) };
                });
            }
        }
        register(f)
    })
}

/// C's `stdin`.
pub(crate) fn stdin() -> &'static Shared {
    standard(0)
}

/// C's `stdout`.
pub(crate) fn stdout() -> &'static Shared {
    standard(1)
}

/// C's `stderr`.
pub(crate) fn stderr() -> &'static Shared {
    standard(2)
}

fn flush_stdout_if_line_buffered() {
    if let Some(s) = STD[1].get() {
        if let Ok(mut f) = s.try_lock() {
            if f.mode == BufMode::Line {
                let _ = f.flush_write();
            }
        }
    }
}

/// `fwrite(data, 1, len, stdout)`: `print`, `io.write` and the stand-alone interpreter
/// share stdout's buffer.
pub fn stdout_write(data: &[u8]) -> io::Result<()> {
    lock(stdout()).write(data)
}

/// `fflush(stdout)`.
pub fn stdout_flush() -> io::Result<()> {
    lock(stdout()).flush_write()
}

/// `fgets` on stdin: a line with its newline; `None` at the end of input.
pub fn stdin_read_line() -> io::Result<Option<Vec<u8>>> {
    let mut f = lock(stdin());
    f.clear_err();
    let mut line = Vec::new();
    let nl = f.read_line(&mut line, true)?;
    Ok((nl || !line.is_empty()).then_some(line))
}

/// Reads stdin to its end (`loadfile()` reading the script from stdin).
pub fn stdin_read_all() -> io::Result<Vec<u8>> {
    let mut f = lock(stdin());
    f.clear_err();
    let mut data = Vec::new();
    f.read_all(&mut data)?;
    Ok(data)
}
