//! A small regular-expression matcher for the catalogue's field patterns, I/O-free.
//!
//! Why not the `regex` crate: the phone library is within 0.1 MB of its size budget
//! (`docs/size.md`), and `regex` (or even `regex-lite`) would take most or all of what is left
//! for patterns that are in practice short anchored sequences (`^[0-9]{12}$`,
//! `^[A-Z]{2}[0-9]{13}$`). This module supports: literals, `.`, `\d \D \w \W \s \S`, escaped
//! punctuation, classes `[a-z0-9_]` / `[^...]` (with those escapes inside), groups `( )` and
//! `(?: )`, alternation `|`, anchors `^ $`, and the greedy quantifiers `? * + {n} {n,} {n,m}`.
//! Anything else (back-references, look-around, lazy quantifiers, flags) is
//! [`Unsupported`]: the caller then does not check the pattern (the portal checks it again).
//!
//! The pattern must match the whole value (the catalogue's contract), with or without `^`/`$`.
//! Matching backtracks with a step budget ([`MAX_STEPS`]): a pattern that would take longer
//! counts as [`Unsupported`] for that value instead of stalling.

/// The most matching steps for one value.
pub const MAX_STEPS: u32 = 200_000;
/// The largest repetition count accepted in `{n,m}`.
const MAX_REPEAT: u32 = 1_000;

/// The pattern uses syntax this matcher does not have, or matching ran out of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Piece>>),
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    node: Node,
    min: u32,
    max: u32,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    root: Piece,
}

impl Pattern {
    pub fn compile(pattern: &str) -> Result<Self, Unsupported> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser { chars, pos: 0 };
        let alternatives = parser.alternation(0)?;
        if parser.pos != parser.chars.len() {
            return Err(Unsupported);
        }
        Ok(Self {
            root: Piece {
                node: Node::Group(alternatives),
                min: 1,
                max: 1,
            },
        })
    }

    /// Whether the whole of `value` matches.
    pub fn matches(&self, value: &str) -> Result<bool, Unsupported> {
        let mut matcher = Matcher {
            input: value.chars().collect(),
            steps: 0,
        };
        let len = matcher.input.len();
        let found = matcher.piece(&self.root, 0, 0, &mut |_, pos| pos == len);
        if matcher.steps > MAX_STEPS {
            return Err(Unsupported);
        }
        Ok(found)
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<char, Unsupported> {
        let c = self.peek().ok_or(Unsupported)?;
        self.pos += 1;
        Ok(c)
    }

    fn alternation(&mut self, depth: u32) -> Result<Vec<Vec<Piece>>, Unsupported> {
        if depth > 16 {
            return Err(Unsupported);
        }
        let mut alternatives = vec![self.sequence(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alternatives.push(self.sequence(depth)?);
        }
        Ok(alternatives)
    }

    fn sequence(&mut self, depth: u32) -> Result<Vec<Piece>, Unsupported> {
        let mut pieces = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let node = self.atom(depth)?;
            let (min, max) = self.quantifier()?;
            if matches!(node, Node::Start | Node::End) && (min, max) != (1, 1) {
                return Err(Unsupported);
            }
            pieces.push(Piece { node, min, max });
        }
        Ok(pieces)
    }

    fn atom(&mut self, depth: u32) -> Result<Node, Unsupported> {
        Ok(match self.next()? {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Any,
            '(' => {
                if self.peek() == Some('?') {
                    self.pos += 1;
                    if self.next()? != ':' {
                        return Err(Unsupported);
                    }
                }
                let alternatives = self.alternation(depth + 1)?;
                if self.next()? != ')' {
                    return Err(Unsupported);
                }
                Node::Group(alternatives)
            }
            '[' => self.class()?,
            '\\' => match self.escape()? {
                Escaped::Char(c) => Node::Char(c),
                Escaped::Class(ranges, negated) => Node::Class {
                    ranges: ranges.to_vec(),
                    negated,
                },
            },
            '*' | '+' | '?' | '{' | '}' | ')' | ']' => return Err(Unsupported),
            c => Node::Char(c),
        })
    }

    fn escape(&mut self) -> Result<Escaped, Unsupported> {
        Ok(match self.next()? {
            'd' => Escaped::Class(DIGIT, false),
            'D' => Escaped::Class(DIGIT, true),
            'w' => Escaped::Class(WORD, false),
            'W' => Escaped::Class(WORD, true),
            's' => Escaped::Class(SPACE, false),
            'S' => Escaped::Class(SPACE, true),
            'n' => Escaped::Char('\n'),
            't' => Escaped::Char('\t'),
            c if c.is_ascii_punctuation() || c == ' ' => Escaped::Char(c),
            _ => return Err(Unsupported),
        })
    }

    fn class(&mut self) -> Result<Node, Unsupported> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '\\' => match self.escape()? {
                    Escaped::Char(c) => c,
                    Escaped::Class(_, true) => return Err(Unsupported),
                    Escaped::Class(set, false) => {
                        ranges.extend_from_slice(set);
                        continue;
                    }
                },
                '[' => return Err(Unsupported),
                c => c,
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']') {
                self.pos += 1;
                let high = match self.next()? {
                    '\\' => match self.escape()? {
                        Escaped::Char(c) => c,
                        Escaped::Class(..) => return Err(Unsupported),
                    },
                    c => c,
                };
                if high < low {
                    return Err(Unsupported);
                }
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Ok(Node::Class { ranges, negated })
    }

    fn quantifier(&mut self) -> Result<(u32, u32), Unsupported> {
        let bounds = match self.peek() {
            Some('?') => (0, 1),
            Some('*') => (0, u32::MAX),
            Some('+') => (1, u32::MAX),
            Some('{') => {
                self.pos += 1;
                let min = self.number()?;
                let max = match self.next()? {
                    '}' => min,
                    ',' if self.peek() == Some('}') => {
                        self.pos += 1;
                        u32::MAX
                    }
                    ',' => {
                        let max = self.number()?;
                        if self.next()? != '}' || max < min {
                            return Err(Unsupported);
                        }
                        max
                    }
                    _ => return Err(Unsupported),
                };
                self.pos -= 1; // the shared advance below
                (min, max)
            }
            _ => return Ok((1, 1)),
        };
        self.pos += 1;
        if matches!(self.peek(), Some('?' | '+')) {
            // Lazy and possessive quantifiers.
            return Err(Unsupported);
        }
        Ok(bounds)
    }

    fn number(&mut self) -> Result<u32, Unsupported> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        match digits.parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(n),
            _ => Err(Unsupported),
        }
    }
}

enum Escaped {
    Char(char),
    Class(&'static [(char, char)], bool),
}

type Continuation<'k> = dyn FnMut(&mut Matcher, usize) -> bool + 'k;

struct Matcher {
    input: Vec<char>,
    steps: u32,
}

impl Matcher {
    fn sequence(&mut self, pieces: &[Piece], pos: usize, k: &mut Continuation<'_>) -> bool {
        match pieces.split_first() {
            None => k(self, pos),
            Some((piece, rest)) => self.piece(piece, 0, pos, &mut |m, next| {
                m.sequence(rest, next, &mut *k)
            }),
        }
    }

    /// Matches `piece` having already matched it `count` times, greedily.
    fn piece(&mut self, piece: &Piece, count: u32, pos: usize, k: &mut Continuation<'_>) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return false;
        }
        if count < piece.max
            && self.atom(&piece.node, pos, &mut |m, next| {
                // An empty repetition past the minimum could loop for ever.
                if next == pos && count >= piece.min {
                    return false;
                }
                m.piece(piece, count + 1, next, &mut *k)
            })
        {
            return true;
        }
        count >= piece.min && k(self, pos)
    }

    fn atom(&mut self, node: &Node, pos: usize, k: &mut Continuation<'_>) -> bool {
        let here = self.input.get(pos).copied();
        match node {
            Node::Char(c) => here == Some(*c) && k(self, pos + 1),
            Node::Any => here.is_some_and(|c| c != '\n') && k(self, pos + 1),
            Node::Class { ranges, negated } => {
                here.is_some_and(|c| {
                    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
                }) && k(self, pos + 1)
            }
            Node::Start => pos == 0 && k(self, pos),
            Node::End => pos == self.input.len() && k(self, pos),
            Node::Group(alternatives) => {
                for alternative in alternatives {
                    if self.sequence(alternative, pos, k) {
                        return true;
                    }
                    if self.steps > MAX_STEPS {
                        return false;
                    }
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        Pattern::compile(pattern).unwrap().matches(value).unwrap()
    }

    #[test]
    fn the_catalogue_patterns() {
        assert!(m("^[0-9]{12}$", "001090012345"));
        assert!(!m("^[0-9]{12}$", "00109001234"));
        assert!(!m("^[0-9]{12}$", "0010900123456"));
        assert!(m("^[0-9]{6,19}$", "123456"));
        assert!(!m("^[0-9]{6,19}$", "12345"));
        assert!(m("^[A-Z]{2}[0-9]{13}$", "DN1234567890123"));
        assert!(!m("^[A-Z]{2}[0-9]{13}$", "dn1234567890123"));
        assert!(m("^[0-9]{4}$", "2024"));
    }

    #[test]
    fn the_whole_value_must_match() {
        assert!(!m("[0-9]{2}", "123"));
        assert!(m("[0-9]{2}", "12"));
        assert!(!m("abc", "xabc"));
    }

    #[test]
    fn groups_alternation_and_escapes() {
        assert!(m(r"^(0|\+84)[35789]\d{8}$", "+84912345678"));
        assert!(m(r"^(0|\+84)[35789]\d{8}$", "0912345678"));
        assert!(!m(r"^(0|\+84)[35789]\d{8}$", "0112345678"));
        assert!(m(r"^(?:ab)+c?$", "ababab"));
        assert!(m(r"^[^@\s]+@[\w.-]+$", "a.b@example.vn"));
        assert!(!m(r"^[^@\s]+@[\w.-]+$", "a b@example.vn"));
        assert!(m(r"^a.c$", "abc"));
        assert!(m(r"^x{2,}$", "xxxx"));
        assert!(m(r"^[a-]+$", "a-a"));
        assert!(m("^Đ[a-zđ]*$", "Đđa"));
    }

    #[test]
    fn unsupported_syntax_is_reported() {
        for pattern in [
            r"(a)\1",
            "(?=a)",
            "a*?",
            "a{2",
            "[a",
            "(a",
            "a)",
            "*a",
            "a{5,2}",
            "a{100000}",
            r"\p{L}",
            "(?i)a",
        ] {
            assert_eq!(Pattern::compile(pattern), Err(Unsupported), "{pattern}");
        }
    }

    #[test]
    fn catastrophic_backtracking_is_bounded() {
        let pattern = Pattern::compile("^(a*)*b$").unwrap();
        let value = "a".repeat(40);
        assert_eq!(pattern.matches(&value), Err(Unsupported));
        let pattern = Pattern::compile("^(a|aa)*$").unwrap();
        assert!(pattern.matches(&"a".repeat(30)).unwrap_or(true));
    }
}
