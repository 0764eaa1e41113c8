//! Shell-aware splitting of a command line into the simple commands it runs.
//!
//! This is a small hand-written lexer rather than a full shell parser crate:
//! the maintained parsers (`brush-parser`, `yash-syntax`) build a complete
//! AST but leave words inside `$(...)`, backticks and `bash -c '...'` as text
//! that needs a second parser pass, and they accept far more syntax than we
//! can judge. Policy needs the opposite trade-off: a lexer small enough to
//! audit and fuzz (`fuzz/fuzz_targets/shell_split.rs`) that finds every
//! place a command can start and *refuses* (returns an error) whatever it
//! does not understand, so the caller can fail closed.
//!
//! It splits at `;`, `&&`, `||`, `|`, `|&`, `&`, newlines and parentheses,
//! descends into `$(...)`, backticks, `<(...)`, `>(...)`, `${...}`, and into
//! the script argument of `sh -c`/`bash -c`/`zsh -c`/`dash -c`/`ksh -c`,
//! `su -c`, `env -S` and `eval`. Quotes and backslashes are honoured, and
//! `#` starts a comment at the beginning of a word.
//!
//! Redirections (`> file`, `2>&1`, `<<< text`) are taken out of the words and
//! listed on their simple command, so policy can tell a command that writes
//! a file from one that only reads or copies a descriptor.

use serde::{Deserialize, Serialize};

/// How deeply substitutions and `sh -c` scripts may nest before the line is
/// refused; bounds recursion on hostile input.
const MAX_DEPTH: usize = 32;

/// Why a command line could not be split. Policy treats every one of these
/// as "may run anything": allow rules never match, deny/ask rules do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error("unterminated single quote")]
    SingleQuote,
    #[error("unterminated double quote")]
    DoubleQuote,
    #[error("unterminated $(...) or (...)")]
    Paren,
    #[error("unterminated backtick substitution")]
    Backtick,
    #[error("unterminated ${{...}}")]
    Brace,
    #[error("unexpected `)`")]
    UnexpectedParen,
    #[error("nested backticks are not supported")]
    NestedBacktick,
    #[error("nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

/// One simple command found in a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The words as written (quotes removed, single spaces between words,
    /// leading reserved words like `then` or `!` dropped, redirections
    /// left out). Allow rules see only this form (or [`Self::written`]): a
    /// wrapper such as `sudo` or `env PATH=...` changes what runs, so it must
    /// be allowed explicitly.
    pub text: String,
    /// Its redirections, in the order written.
    pub redirects: Vec<Redirect>,
    /// `text` followed by each redirection written as `<op><target>`
    /// (`git status 2>&1 >/tmp/x`); the same as `text` without redirections.
    pub written: String,
    /// `text` first, then each form with one more leading wrapper,
    /// assignment or command path stripped (`sudo rm -rf /` is also seen as
    /// `rm -rf /`), then `written` when it differs from `text`. Deny and ask
    /// rules match any of these.
    pub seen_as: Vec<String>,
}

impl SimpleCommand {
    /// Whether any redirection writes to a file.
    pub fn writes_file(&self) -> bool {
        self.redirects.iter().any(|r| r.writes_file)
    }

    /// What people are shown: the command and its redirections.
    pub fn part(&self) -> CommandPart {
        CommandPart {
            text: self.text.clone(),
            redirects: self.redirects.clone(),
        }
    }
}

/// One redirection of a simple command, e.g. `2>&1` or `>> ~/.bashrc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Redirect {
    /// The operator with its file descriptor, as written: `>`, `2>>`, `&>`,
    /// `>|`, `2>&`, `<`, `<<<`.
    pub op: String,
    /// The file, descriptor or text it names (quotes removed); empty when
    /// the line ends before it.
    pub target: String,
    /// Whether it writes to a file: an output operator whose target is not
    /// `/dev/null` and that does not copy or close a descriptor (`2>&1`, `>&-`).
    pub writes_file: bool,
}

impl Redirect {
    fn new(op: String, target: String) -> Self {
        let writes_file = writes_file(&op, &target);
        Self {
            op,
            target,
            writes_file,
        }
    }
}

fn writes_file(op: &str, target: &str) -> bool {
    let op = op.trim_start_matches(|c: char| c.is_ascii_digit());
    let output = op.contains('>');
    if !output {
        return false;
    }
    let descriptor =
        target == "-" || (!target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()));
    if op == ">&" && descriptor {
        return false;
    }
    target != "/dev/null"
}

/// A simple command as the API shows it: what the policy saw, and where
/// its output goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandPart {
    /// The words as written, quotes removed, redirections left out.
    pub text: String,
    /// Its redirections; empty when it has none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub redirects: Vec<Redirect>,
}

/// The simple commands of `line` as the API shows them, or why it cannot
/// be split.
pub fn parts(line: &str) -> Result<Vec<CommandPart>, ShellError> {
    Ok(split(line)?.iter().map(SimpleCommand::part).collect())
}

/// The parts of `args.command`, when it is a string that can be split.
pub fn command_parts(
    args: &serde_json::Map<String, serde_json::Value>,
) -> Option<Vec<CommandPart>> {
    match args.get("command") {
        Some(serde_json::Value::String(line)) => parts(line).ok(),
        _ => None,
    }
}

/// Whether `text` starts with `prefix` at a word boundary: it is the
/// prefix, or the prefix followed by a space (`npm test` begins
/// `npm test -u`, not `npm testx`).
pub fn starts_with_words(text: &str, prefix: &str) -> bool {
    match text.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with(' '),
        None => false,
    }
}

/// Splits `line` into its simple commands, or refuses it.
pub fn split(line: &str) -> Result<Vec<SimpleCommand>, ShellError> {
    let mut out = Vec::new();
    split_into(line, 0, &mut out)?;
    Ok(out)
}

fn split_into(line: &str, depth: usize, out: &mut Vec<SimpleCommand>) -> Result<(), ShellError> {
    if depth > MAX_DEPTH {
        return Err(ShellError::TooDeep);
    }
    let mut lexer = Lexer {
        chars: line.chars().collect(),
        pos: 0,
        depth,
        out,
    };
    lexer.list(Close::End)
}

/// What ends the command list being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    End,
    Paren,
    Backtick,
}

struct Lexer<'o> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    out: &'o mut Vec<SimpleCommand>,
}

/// The word being built, and whether any of it was quoted (a quoted `2`
/// before `>` is a word, not a file descriptor).
#[derive(Default)]
struct Word {
    text: String,
    started: bool,
    quoted: bool,
}

impl Word {
    fn push(&mut self, c: char) {
        self.text.push(c);
        self.started = true;
    }

    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.started = true;
    }
}

/// The simple command being read: its words, its redirections, and a
/// redirection operator still waiting for its target word.
#[derive(Default)]
struct Command {
    words: Vec<String>,
    redirects: Vec<Redirect>,
    pending: Option<String>,
}

impl Command {
    fn end_word(&mut self, word: &mut Word) {
        if word.started {
            let text = std::mem::take(&mut word.text);
            match self.pending.take() {
                Some(op) => self.redirects.push(Redirect::new(op, text)),
                None => self.words.push(text),
            }
        }
        *word = Word::default();
    }

    /// Starts a redirection; one still missing its target keeps an empty one.
    fn redirect(&mut self, op: String) {
        if let Some(earlier) = self.pending.replace(op) {
            self.redirects.push(Redirect::new(earlier, String::new()));
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.redirects.is_empty() && self.pending.is_none()
    }
}

/// Output and input redirection operators after their first character,
/// longest first.
const REDIRECT_OPS: &[&str] = &[
    "&>>", "&>", ">>", ">|", ">&", ">", "<<<", "<<-", "<<", "<>", "<&", "<",
];

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn source(&self, from: usize) -> String {
        self.chars[from..self.pos].iter().collect()
    }

    /// Reads simple commands until `close` (consumed) or the end of input.
    fn list(&mut self, close: Close) -> Result<(), ShellError> {
        let mut words = Command::default();
        let mut word = Word::default();
        loop {
            let Some(c) = self.peek() else {
                self.end_command(&mut words, &mut word)?;
                return match close {
                    Close::End => Ok(()),
                    Close::Paren => Err(ShellError::Paren),
                    Close::Backtick => Err(ShellError::Backtick),
                };
            };
            match c {
                ' ' | '\t' | '\r' => {
                    words.end_word(&mut word);
                    self.pos += 1;
                }
                '\n' | ';' => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                }
                '|' => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                }
                '&' if self.peek_at(1) == Some('>') => self.redirection(&mut words, &mut word),
                '&' => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                }
                '<' | '>' if self.peek_at(1) == Some('(') => {
                    let start = self.pos;
                    self.pos += 2;
                    self.nested(Close::Paren)?;
                    word.push_str(&self.source(start));
                }
                '<' | '>' => self.redirection(&mut words, &mut word),
                '(' => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                    self.nested(Close::Paren)?;
                }
                ')' => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                    return match close {
                        Close::Paren => Ok(()),
                        _ => Err(ShellError::UnexpectedParen),
                    };
                }
                '`' if close == Close::Backtick => {
                    self.end_command(&mut words, &mut word)?;
                    self.pos += 1;
                    return Ok(());
                }
                '`' => self.backtick(&mut word)?,
                '#' if !word.started => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\\' => {
                    if close == Close::Backtick && self.peek_at(1) == Some('`') {
                        return Err(ShellError::NestedBacktick);
                    }
                    self.backslash(&mut word);
                }
                '\'' => self.single_quoted(&mut word)?,
                '"' => self.double_quoted(&mut word, close)?,
                '$' => self.dollar(&mut word, close)?,
                _ => {
                    word.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads a redirection operator at the cursor (`&>`, `>>`, `2>&`, ...):
    /// a word of digits just before it is its file descriptor; its target is
    /// the next word.
    fn redirection(&mut self, command: &mut Command, word: &mut Word) {
        let mut op = String::new();
        if word.started && !word.quoted && word.text.bytes().all(|b| b.is_ascii_digit()) {
            op = std::mem::take(&mut word.text);
            *word = Word::default();
        } else {
            command.end_word(word);
        }
        let rest: String = self.chars[self.pos..].iter().take(3).collect();
        let sign = REDIRECT_OPS
            .iter()
            .find(|sign| rest.starts_with(**sign))
            .copied()
            .unwrap_or(">");
        op.push_str(sign);
        self.pos += sign.chars().count();
        command.redirect(op);
    }

    /// Reads a nested command list into the same output, one level deeper.
    fn nested(&mut self, close: Close) -> Result<(), ShellError> {
        if self.depth >= MAX_DEPTH {
            return Err(ShellError::TooDeep);
        }
        self.depth += 1;
        let result = self.list(close);
        self.depth -= 1;
        result
    }

    fn backtick(&mut self, word: &mut Word) -> Result<(), ShellError> {
        let start = self.pos;
        self.pos += 1;
        self.nested(Close::Backtick)?;
        word.push_str(&self.source(start));
        Ok(())
    }

    /// Unquoted backslash: the next character is literal; before a newline
    /// it joins lines; at the end of input it is itself literal.
    fn backslash(&mut self, word: &mut Word) {
        match self.peek_at(1) {
            Some('\n') => self.pos += 2,
            Some(next) => {
                word.push(next);
                self.pos += 2;
            }
            None => {
                word.push('\\');
                self.pos += 1;
            }
        }
    }

    fn single_quoted(&mut self, word: &mut Word) -> Result<(), ShellError> {
        self.pos += 1;
        word.push_str("");
        word.quoted = true;
        loop {
            match self.peek() {
                None => return Err(ShellError::SingleQuote),
                Some('\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) => {
                    word.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn double_quoted(&mut self, word: &mut Word, close: Close) -> Result<(), ShellError> {
        self.pos += 1;
        word.push_str("");
        word.quoted = true;
        loop {
            match self.peek() {
                None => return Err(ShellError::DoubleQuote),
                Some('"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') => match self.peek_at(1) {
                    Some('`') if close == Close::Backtick => {
                        return Err(ShellError::NestedBacktick);
                    }
                    Some('\n') => self.pos += 2,
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        word.push(next);
                        self.pos += 2;
                    }
                    _ => {
                        word.push('\\');
                        self.pos += 1;
                    }
                },
                Some('$') => self.dollar(word, close)?,
                Some('`') if close == Close::Backtick => {
                    return Err(ShellError::NestedBacktick);
                }
                Some('`') => self.backtick(word)?,
                Some(c) => {
                    word.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `$(...)`, `${...}`, `$'...'`, `$"..."`, or a plain `$`.
    fn dollar(&mut self, word: &mut Word, close: Close) -> Result<(), ShellError> {
        let start = self.pos;
        match self.peek_at(1) {
            Some('(') => {
                self.pos += 2;
                self.nested(Close::Paren)?;
                word.push_str(&self.source(start));
            }
            Some('{') => {
                self.pos += 2;
                self.braced(close)?;
                word.push_str(&self.source(start));
            }
            Some('\'') => {
                self.pos += 2;
                loop {
                    match self.peek() {
                        None => return Err(ShellError::SingleQuote),
                        Some('\'') => break,
                        Some('\\') => self.pos += 2,
                        Some(_) => self.pos += 1,
                    }
                }
                self.pos += 1;
                word.push_str(&self.source(start));
            }
            Some('"') => {
                self.pos += 1;
                self.double_quoted(word, close)?;
            }
            _ => {
                word.push('$');
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// The inside of `${...}`: only substitutions matter, the rest is text.
    fn braced(&mut self, close: Close) -> Result<(), ShellError> {
        let mut scratch = Word::default();
        let mut depth = 1usize;
        loop {
            match self.peek() {
                None => return Err(ShellError::Brace),
                Some('}') => {
                    self.pos += 1;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some('{') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some('\\') => {
                    if close == Close::Backtick && self.peek_at(1) == Some('`') {
                        return Err(ShellError::NestedBacktick);
                    }
                    self.backslash(&mut scratch);
                }
                Some('\'') => self.single_quoted(&mut scratch)?,
                Some('"') => self.double_quoted(&mut scratch, close)?,
                Some('$') => self.dollar(&mut scratch, close)?,
                Some('`') if close == Close::Backtick => {
                    return Err(ShellError::NestedBacktick);
                }
                Some('`') => self.backtick(&mut scratch)?,
                Some(_) => self.pos += 1,
            }
        }
    }

    fn end_command(&mut self, command: &mut Command, word: &mut Word) -> Result<(), ShellError> {
        command.end_word(word);
        if command.is_empty() {
            return Ok(());
        }
        let Command {
            words: taken,
            mut redirects,
            pending,
        } = std::mem::take(command);
        if let Some(op) = pending {
            redirects.push(Redirect::new(op, String::new()));
        }
        let written = strip_reserved(&taken);
        if written.is_empty() && redirects.is_empty() {
            return Ok(());
        }
        let mut scripts = Vec::new();
        let mut seen_as = forms(written, &mut scripts);
        let text = written.join(" ");
        let mut with_redirects = text.clone();
        for r in &redirects {
            if !with_redirects.is_empty() {
                with_redirects.push(' ');
            }
            with_redirects.push_str(&r.op);
            with_redirects.push_str(&r.target);
        }
        if !redirects.is_empty() {
            seen_as.push(with_redirects.clone());
        }
        self.out.push(SimpleCommand {
            text,
            redirects,
            written: with_redirects,
            seen_as,
        });
        for script in scripts {
            split_into(&script, self.depth + 1, self.out)?;
        }
        Ok(())
    }
}

/// Reserved words that introduce a command without running anything.
const RESERVED: &[&str] = &[
    "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time",
    "case", "esac", "for", "select", "function", "in", "coproc",
];

fn strip_reserved(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|w| RESERVED.contains(&w.as_str()))
        .count();
    &words[skip..]
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            let name = name.strip_suffix('+').unwrap_or(name);
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// A command that runs the rest of its arguments as another command.
struct Wrapper {
    name: &'static str,
    /// Short options that take an argument (`-u root`, or attached: `-uroot`).
    short_with_arg: &'static str,
    /// Long options that take a separate argument when written without `=`.
    long_with_arg: &'static [&'static str],
    /// Positional arguments before the command (`timeout 5 cmd`).
    positional: usize,
    /// Whether `NAME=value` arguments may precede the command.
    assignments: bool,
    /// Whether a bare number is an option (`nice -5`).
    numeric_options: bool,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "sudo",
        short_with_arg: "ughpCUrtDRT",
        long_with_arg: &[
            "--user",
            "--group",
            "--host",
            "--prompt",
            "--close-from",
            "--other-user",
            "--role",
            "--type",
            "--chdir",
            "--chroot",
            "--command-timeout",
        ],
        positional: 0,
        assignments: true,
        numeric_options: false,
    },
    Wrapper {
        name: "doas",
        short_with_arg: "uC",
        long_with_arg: &[],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "env",
        short_with_arg: "uCSP",
        long_with_arg: &["--unset", "--chdir", "--split-string"],
        positional: 0,
        assignments: true,
        numeric_options: false,
    },
    Wrapper {
        name: "nice",
        short_with_arg: "n",
        long_with_arg: &["--adjustment"],
        positional: 0,
        assignments: false,
        numeric_options: true,
    },
    Wrapper {
        name: "timeout",
        short_with_arg: "sk",
        long_with_arg: &["--signal", "--kill-after"],
        positional: 1,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "nohup",
        short_with_arg: "",
        long_with_arg: &[],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "exec",
        short_with_arg: "a",
        long_with_arg: &[],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "command",
        short_with_arg: "",
        long_with_arg: &[],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "builtin",
        short_with_arg: "",
        long_with_arg: &[],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "time",
        short_with_arg: "fo",
        long_with_arg: &["--format", "--output"],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "stdbuf",
        short_with_arg: "ioe",
        long_with_arg: &["--input", "--output", "--error"],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "ionice",
        short_with_arg: "cnp",
        long_with_arg: &["--class", "--classdata", "--pid"],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
    Wrapper {
        name: "xargs",
        short_with_arg: "IndPLsEa",
        long_with_arg: &[
            "--max-args",
            "--delimiter",
            "--max-procs",
            "--max-lines",
            "--max-chars",
            "--arg-file",
            "--replace",
            "--eof",
        ],
        positional: 0,
        assignments: false,
        numeric_options: false,
    },
];

/// Shells whose `-c` argument is itself a command line.
const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "su",
];

/// Skips a wrapper's options and positionals; returns the remaining words
/// and any script an option carries (`env -S 'cmd args'`).
fn skip_wrapper<'w>(wrapper: &Wrapper, args: &'w [String]) -> (&'w [String], Option<String>) {
    let mut i = 0;
    let mut script = None;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        if wrapper.assignments && is_assignment(arg) {
            i += 1;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if wrapper.numeric_options && long.chars().all(|c| c.is_ascii_digit()) {
                i += 1;
                continue;
            }
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (long, None),
            };
            let takes_arg = wrapper.long_with_arg.iter().any(|l| &l[2..] == name);
            let value = match (takes_arg, value) {
                (true, None) => {
                    i += 1;
                    args.get(i).cloned()
                }
                (_, value) => value,
            };
            if name == "split-string" {
                script = value;
            }
            i += 1;
            continue;
        }
        if let Some(short) = arg.strip_prefix('-')
            && !short.is_empty()
        {
            if wrapper.numeric_options && short.chars().all(|c| c.is_ascii_digit()) {
                i += 1;
                continue;
            }
            for (at, flag) in short.char_indices() {
                if wrapper.short_with_arg.contains(flag) {
                    let attached = &short[at + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        i += 1;
                        args.get(i).cloned()
                    } else {
                        Some(attached.to_owned())
                    };
                    if wrapper.name == "env" && flag == 'S' {
                        script = value;
                    }
                    break;
                }
            }
            i += 1;
            continue;
        }
        break;
    }
    let rest = args.get(i..).unwrap_or(&[]);
    let rest = rest.get(wrapper.positional..).unwrap_or(&[]);
    (rest, script)
}

/// The script a shell runs with `-c`: the first operand after an option
/// cluster containing `c` (`bash -lc 'cmd'`, `su root -c 'cmd'`).
fn shell_script(args: &[String]) -> Option<String> {
    let mut saw_c = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--command" {
            return iter.next().cloned();
        }
        if let Some(script) = arg.strip_prefix("--command=") {
            return Some(script.to_owned());
        }
        if arg.starts_with("--") {
            continue;
        }
        if let Some(flags) = arg.strip_prefix('-').or_else(|| arg.strip_prefix('+')) {
            saw_c |= flags.contains('c');
            if flags.contains('o') || flags.contains('O') {
                iter.next();
            }
            continue;
        }
        if saw_c {
            return Some(arg.clone());
        }
    }
    None
}

/// Every form a simple command is seen as, and the scripts it runs.
fn forms(written: &[String], scripts: &mut Vec<String>) -> Vec<String> {
    let mut seen_as = vec![written.join(" ")];
    let mut current = written;
    loop {
        let assignments = current.iter().take_while(|w| is_assignment(w)).count();
        if assignments > 0 {
            current = &current[assignments..];
            if current.is_empty() {
                break;
            }
            seen_as.push(current.join(" "));
        }
        let Some(first) = current.first() else { break };
        let name = basename(first);
        if name != first {
            let mut form = name.to_owned();
            for word in &current[1..] {
                form.push(' ');
                form.push_str(word);
            }
            seen_as.push(form);
        }
        if let Some(wrapper) = WRAPPERS.iter().find(|w| w.name == name) {
            let (rest, script) = skip_wrapper(wrapper, &current[1..]);
            scripts.extend(script);
            if rest.is_empty() {
                break;
            }
            current = rest;
            seen_as.push(current.join(" "));
            continue;
        }
        if SHELLS.contains(&name) {
            scripts.extend(shell_script(&current[1..]));
        } else if name == "eval" {
            scripts.push(current[1..].join(" "));
        }
        break;
    }
    seen_as.dedup();
    seen_as
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|c| c.text).collect()
    }

    fn all_forms(line: &str) -> Vec<String> {
        split(line)
            .unwrap()
            .into_iter()
            .flat_map(|c| c.seen_as)
            .collect()
    }

    #[test]
    fn splits_at_every_operator() {
        let cases: &[(&str, &[&str])] = &[
            ("npm test && rm -rf /", &["npm test", "rm -rf /"]),
            ("true; rm -rf /", &["true", "rm -rf /"]),
            ("a || b", &["a", "b"]),
            ("a | rm -rf /", &["a", "rm -rf /"]),
            ("a |& b", &["a", "b"]),
            ("x & rm -rf /", &["x", "rm -rf /"]),
            ("a\nrm -rf /", &["a", "rm -rf /"]),
            ("a;;b", &["a", "b"]),
            ("(cd x && rm -rf /)", &["cd x", "rm -rf /"]),
            ("{ a; b; }", &["a", "b"]),
            ("if a; then b; fi", &["a", "b"]),
            ("! a", &["a"]),
        ];
        for (line, want) in cases {
            assert_eq!(texts(line), *want, "{line}");
        }
    }

    #[test]
    fn descends_into_substitutions() {
        let cases: &[(&str, &[&str])] = &[
            ("echo $(rm -rf /)", &["rm -rf /", "echo $(rm -rf /)"]),
            ("echo `rm -rf /`", &["rm -rf /", "echo `rm -rf /`"]),
            ("echo \"$(rm -rf /)\"", &["rm -rf /", "echo $(rm -rf /)"]),
            ("echo \"`b`\"", &["b", "echo `b`"]),
            ("cat <(rm -rf /)", &["rm -rf /", "cat <(rm -rf /)"]),
            ("echo ${X:-$(b)}", &["b", "echo ${X:-$(b)}"]),
            ("echo $((1+2))", &["1+2", "echo $((1+2))"]),
            ("a $(b $(c))", &["c", "b $(c)", "a $(b $(c))"]),
        ];
        for (line, want) in cases {
            assert_eq!(texts(line), *want, "{line}");
        }
    }

    #[test]
    fn descends_into_shell_scripts() {
        let cases: &[(&str, &str)] = &[
            ("bash -c 'rm -rf /'", "rm -rf /"),
            ("sh -c \"rm -rf /\"", "rm -rf /"),
            ("zsh -c 'rm -rf /'", "rm -rf /"),
            ("dash -c 'rm -rf /'", "rm -rf /"),
            ("/bin/bash -lc 'rm -rf /'", "rm -rf /"),
            ("bash -o pipefail -c 'rm -rf /'", "rm -rf /"),
            ("sudo bash -c 'rm -rf /'", "rm -rf /"),
            ("su root -c 'rm -rf /'", "rm -rf /"),
            ("eval 'rm -rf /'", "rm -rf /"),
            ("env -S 'rm -rf /'", "rm -rf /"),
            ("bash -c 'a; bash -c \"rm -rf /\"'", "rm -rf /"),
        ];
        for (line, want) in cases {
            assert!(
                texts(line).contains(&want.to_string()),
                "{line}: {:?}",
                texts(line)
            );
        }
    }

    #[test]
    fn quotes_and_escapes_do_not_split() {
        let cases: &[(&str, &[&str])] = &[
            ("echo 'a && b'", &["echo a && b"]),
            ("echo \"a; b | c\"", &["echo a; b | c"]),
            ("echo a\\;b", &["echo a;b"]),
            ("echo '$(rm -rf /)'", &["echo $(rm -rf /)"]),
            ("npm test 2>&1", &["npm test"]),
            ("npm test &>/dev/null", &["npm test"]),
            ("npm test >& log", &["npm test"]),
            ("npm test >| log", &["npm test"]),
            ("a '>'| b", &["a >", "b"]),
            ("git   push\t --force", &["git push --force"]),
            ("echo a # ; rm -rf /", &["echo a"]),
            ("echo a#b", &["echo a#b"]),
            ("echo ''", &["echo "]),
            ("npm \\\ntest", &["npm test"]),
        ];
        for (line, want) in cases {
            assert_eq!(texts(line), *want, "{line}");
        }
    }

    /// A redirection as (op, target, writes_file).
    type Seen = (String, String, bool);

    fn redirects(line: &str) -> Vec<Seen> {
        split(line)
            .unwrap()
            .into_iter()
            .flat_map(|c| c.redirects)
            .map(|r| (r.op, r.target, r.writes_file))
            .collect()
    }

    #[test]
    fn redirections_are_listed_with_what_they_write() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str, bool)]);
        let cases: &[Case<'_>] = &[
            ("ls > /etc/passwd", &[(">", "/etc/passwd", true)]),
            ("ls >>~/.bashrc", &[(">>", "~/.bashrc", true)]),
            ("ls &> out", &[("&>", "out", true)]),
            ("ls &>> out", &[("&>>", "out", true)]),
            ("ls >| x", &[(">|", "x", true)]),
            ("ls 1>x", &[("1>", "x", true)]),
            ("ls>x", &[(">", "x", true)]),
            ("ls >& log", &[(">&", "log", true)]),
            ("ls <> f", &[("<>", "f", true)]),
            ("ls 2>&1", &[("2>&", "1", false)]),
            ("ls >&2", &[(">&", "2", false)]),
            ("ls 2>&-", &[("2>&", "-", false)]),
            ("ls 2>/dev/null", &[("2>", "/dev/null", false)]),
            ("ls > '/dev/null'", &[(">", "/dev/null", false)]),
            ("cat < in", &[("<", "in", false)]),
            ("cat <<< x > y", &[("<<<", "x", false), (">", "y", true)]),
            ("cat <<EOF", &[("<<", "EOF", false)]),
            ("ls '2'>x", &[(">", "x", true)]),
            ("ls >", &[(">", "", true)]),
            ("> f", &[(">", "f", true)]),
            ("echo '>' x", &[]),
            ("echo \\> x", &[]),
        ];
        for (line, want) in cases {
            let want: Vec<Seen> = want
                .iter()
                .map(|(o, t, w)| (o.to_string(), t.to_string(), *w))
                .collect();
            assert_eq!(redirects(line), want, "{line}");
        }
        assert_eq!(texts("ls '2'>x"), ["ls 2"]);
        assert_eq!(texts("> f"), [""]);
        let c = &split("git status > /etc/passwd 2>&1").unwrap()[0];
        assert_eq!(c.written, "git status >/etc/passwd 2>&1");
        assert_eq!(c.seen_as.last().unwrap(), "git status >/etc/passwd 2>&1");
    }

    #[test]
    fn a_quoted_redirect_sign_does_not_hide_a_background_operator() {
        assert_eq!(texts("echo '>'& rm -rf /"), ["echo >", "rm -rf /"]);
    }

    #[test]
    fn wrappers_and_assignments_are_stripped() {
        let cases: &[(&str, &str)] = &[
            ("sudo rm -rf /", "rm -rf /"),
            ("sudo -u root -E rm -rf /", "rm -rf /"),
            ("sudo -iu root rm -rf /", "rm -rf /"),
            ("sudo --user=root rm -rf /", "rm -rf /"),
            ("env X=1 rm -rf /", "rm -rf /"),
            ("env -i -u HOME X=1 rm -rf /", "rm -rf /"),
            ("nice -n 5 rm -rf /", "rm -rf /"),
            ("nice -5 rm -rf /", "rm -rf /"),
            ("timeout 5 rm -rf /", "rm -rf /"),
            ("timeout -s KILL 5 rm -rf /", "rm -rf /"),
            ("timeout --signal=KILL 5s rm -rf /", "rm -rf /"),
            ("nohup rm -rf /", "rm -rf /"),
            ("FOO=bar rm -rf /", "rm -rf /"),
            ("A=1 B=2 sudo env C=3 nice rm -rf /", "rm -rf /"),
            ("/bin/rm -rf /", "rm -rf /"),
            ("exec rm -rf /", "rm -rf /"),
            ("find . | xargs -n 1 rm -rf", "rm -rf"),
        ];
        for (line, want) in cases {
            let forms = all_forms(line);
            assert!(forms.contains(&want.to_string()), "{line}: {forms:?}");
        }
    }

    #[test]
    fn the_written_form_keeps_wrappers() {
        assert_eq!(texts("sudo rm -rf /"), ["sudo rm -rf /"]);
        assert_eq!(texts("FOO=bar npm test"), ["FOO=bar npm test"]);
    }

    #[test]
    fn unparseable_lines_are_refused() {
        let cases: &[(&str, ShellError)] = &[
            ("echo 'a", ShellError::SingleQuote),
            ("echo \"a", ShellError::DoubleQuote),
            ("echo $(a", ShellError::Paren),
            ("echo (a", ShellError::Paren),
            ("echo `a", ShellError::Backtick),
            ("echo ${a", ShellError::Brace),
            ("echo a)", ShellError::UnexpectedParen),
            ("echo `a \\`b\\``", ShellError::NestedBacktick),
            ("bash -c 'echo \"x'", ShellError::DoubleQuote),
            ("echo $'abc", ShellError::SingleQuote),
        ];
        for (line, want) in cases {
            assert_eq!(split(line).unwrap_err(), *want, "{line}");
        }
        let deep = format!("{}x{}", "$(".repeat(40), ")".repeat(40));
        assert_eq!(split(&deep).unwrap_err(), ShellError::TooDeep);
        let deep_eval = format!("{}x", "eval ".repeat(40));
        assert_eq!(split(&deep_eval).unwrap_err(), ShellError::TooDeep);
    }

    #[test]
    fn empty_lines_have_no_commands() {
        for line in ["", "   ", ";", "\n\n", "# just a comment", "fi"] {
            assert!(split(line).unwrap().is_empty(), "{line:?}");
        }
    }
}
