//! Colours in the form the terminal declares it understands.
//!
//! crossterm writes even the 16 named colours as 256-colour codes
//! (`ESC[38;5;1m`) and resets an underline colour no terminal was given
//! (`ESC[59m`): an 8- or 16-colour terminal (the Linux console, a plain
//! `xterm`, a serial line) gets codes it does not know. The desk draws
//! through `DepthBackend`, which writes each cell's style as standard SGR
//! codes for the depth read from `TERM` and `COLORTERM` (and none at all
//! for `NO_COLOR` or `TERM=dumb`), and leaves the rest to crossterm.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use std::io::{self, Write};

/// How many colours the terminal declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// No colour (`NO_COLOR`, `TERM=dumb`, a VT100): bold, reverse and
    /// underline only.
    None,
    /// The eight ANSI colours, 30–37 (a plain `xterm`, `linux`, `screen`).
    Eight,
    /// Those and their bright forms, 90–97 (`*-16color`).
    Sixteen,
    /// `*-256color`: 38;5;N for indexed colours.
    Indexed,
    /// `COLORTERM=truecolor`/`24bit` or `*-direct`: 38;2;R;G;B.
    True,
}

impl Depth {
    /// The depth `TERM` and `COLORTERM` declare; `NO_COLOR` (non-empty)
    /// turns colour off whatever they say.
    pub fn declared(term: Option<&str>, colorterm: Option<&str>, no_color: bool) -> Depth {
        let term = term.unwrap_or("").to_ascii_lowercase();
        if no_color || term.is_empty() || term == "dumb" || term.starts_with("vt") {
            return Depth::None;
        }
        let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" || term.ends_with("-direct") {
            Depth::True
        } else if term.contains("256color") {
            Depth::Indexed
        } else if term.contains("16color") || term.contains("88color") {
            Depth::Sixteen
        } else {
            Depth::Eight
        }
    }

    pub fn from_env() -> Depth {
        let var = |k: &str| std::env::var(k).ok();
        Depth::declared(
            var("TERM").as_deref(),
            var("COLORTERM").as_deref(),
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        )
    }

    /// The SGR parameter for a colour as foreground (`bg` false) or
    /// background, or `None` when this depth cannot show it.
    fn code(self, c: Color, bg: bool) -> Option<String> {
        let (base, bright) = if bg { (40, 100) } else { (30, 90) };
        let named = |i: u8| -> Option<String> {
            match (i, self) {
                (0..=7, _) => Some((base + u16::from(i)).to_string()),
                // Bright forms: their base colour on an 8-colour terminal
                // (dark grey, which has none, is left plain).
                (8, Depth::Eight) => None,
                (9..=15, Depth::Eight) => Some((base + u16::from(i - 8)).to_string()),
                (8..=15, _) => Some((bright + u16::from(i - 8)).to_string()),
                _ => None,
            }
        };
        if self == Depth::None {
            return None;
        }
        let layer = if bg { 48 } else { 38 };
        match c {
            Color::Reset => None,
            Color::Black => named(0),
            Color::Red => named(1),
            Color::Green => named(2),
            Color::Yellow => named(3),
            Color::Blue => named(4),
            Color::Magenta => named(5),
            Color::Cyan => named(6),
            Color::Gray => named(7),
            Color::DarkGray => named(8),
            Color::LightRed => named(9),
            Color::LightGreen => named(10),
            Color::LightYellow => named(11),
            Color::LightBlue => named(12),
            Color::LightMagenta => named(13),
            Color::LightCyan => named(14),
            Color::White => named(15),
            Color::Indexed(i) if i < 16 => named(i),
            Color::Indexed(i) if self >= Depth::Indexed => Some(format!("{layer};5;{i}")),
            Color::Rgb(r, g, b) if self == Depth::True => Some(format!("{layer};2;{r};{g};{b}")),
            // Deeper than the terminal declares: left plain.
            _ => None,
        }
    }

    /// The whole SGR sequence for a cell's look: reset, then its modifiers
    /// and colours.
    pub fn sgr(self, fg: Color, bg: Color, m: Modifier) -> String {
        let mut p: Vec<String> = vec!["0".into()];
        for (flag, code) in [
            (Modifier::BOLD, "1"),
            (Modifier::DIM, "2"),
            (Modifier::ITALIC, "3"),
            (Modifier::UNDERLINED, "4"),
            (Modifier::REVERSED, "7"),
            (Modifier::CROSSED_OUT, "9"),
        ] {
            if m.contains(flag) {
                p.push(code.into());
            }
        }
        p.extend(self.code(fg, false));
        p.extend(self.code(bg, true));
        format!("\x1b[{}m", p.join(";"))
    }
}

/// crossterm's backend for everything but the cells' look.
pub struct DepthBackend<W: Write> {
    inner: CrosstermBackend<W>,
    depth: Depth,
}

impl<W: Write> DepthBackend<W> {
    pub fn new(writer: W, depth: Depth) -> DepthBackend<W> {
        DepthBackend {
            inner: CrosstermBackend::new(writer),
            depth,
        }
    }
}

impl<W: Write> Write for DepthBackend<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

impl<W: Write> Backend for DepthBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut look: Option<(Color, Color, Modifier)> = None;
        let mut last: Option<(u16, u16)> = None;
        let mut out = Vec::with_capacity(4096);
        for (x, y, cell) in content {
            // Move only when the cell does not follow the last one.
            if !matches!(last, Some((lx, ly)) if x == lx + 1 && y == ly) {
                write!(out, "\x1b[{};{}H", y + 1, x + 1)?;
            }
            last = Some((x, y));
            let this = (cell.fg, cell.bg, cell.modifier);
            if look != Some(this) {
                out.extend_from_slice(self.depth.sgr(cell.fg, cell.bg, cell.modifier).as_bytes());
                look = Some(this);
            }
            out.extend_from_slice(cell.symbol().as_bytes());
        }
        if look.is_some() {
            out.extend_from_slice(b"\x1b[0m");
        }
        self.inner.write_all(&out)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }
    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }
    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_is_the_one_the_terminal_declares() {
        let d = |t: &str, c: &str| Depth::declared(Some(t), Some(c), false);
        assert_eq!(d("linux", ""), Depth::Eight);
        assert_eq!(d("xterm", ""), Depth::Eight);
        assert_eq!(d("xterm-16color", ""), Depth::Sixteen);
        assert_eq!(d("tmux-256color", ""), Depth::Indexed);
        assert_eq!(d("xterm-256color", "truecolor"), Depth::True);
        assert_eq!(d("vt100", ""), Depth::None);
        assert_eq!(d("dumb", "truecolor"), Depth::None);
        assert_eq!(
            Depth::declared(Some("xterm-256color"), None, true),
            Depth::None
        );
    }

    #[test]
    fn named_colours_are_standard_codes_at_every_depth() {
        let red = |d: Depth| d.sgr(Color::Red, Color::Reset, Modifier::BOLD);
        assert_eq!(red(Depth::Eight), "\x1b[0;1;31m");
        assert_eq!(red(Depth::Indexed), "\x1b[0;1;31m", "never 38;5;1");
        assert_eq!(red(Depth::None), "\x1b[0;1m");
        // Dark grey (the desk's muted text) has no 8-colour form: plain.
        assert_eq!(
            Depth::Eight.sgr(Color::DarkGray, Color::Reset, Modifier::empty()),
            "\x1b[0m"
        );
        assert_eq!(
            Depth::Sixteen.sgr(Color::DarkGray, Color::Reset, Modifier::empty()),
            "\x1b[0;90m"
        );
        assert_eq!(
            Depth::Eight.sgr(Color::Indexed(200), Color::Rgb(1, 2, 3), Modifier::REVERSED),
            "\x1b[0;7m"
        );
        assert_eq!(
            Depth::True.sgr(Color::Rgb(1, 2, 3), Color::Reset, Modifier::empty()),
            "\x1b[0;38;2;1;2;3m"
        );
    }

    #[test]
    fn a_frame_holds_no_code_the_depth_does_not_declare() {
        use ratatui::style::Style;
        use ratatui::text::Span;
        use ratatui::widgets::Widget;
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 20, 2));
        Span::styled("OVERDUE", Style::default().fg(Color::Red))
            .render(ratatui::layout::Rect::new(0, 0, 20, 1), &mut buf);
        Span::styled("muted", Style::default().fg(Color::DarkGray))
            .render(ratatui::layout::Rect::new(0, 1, 20, 1), &mut buf);
        for depth in [Depth::None, Depth::Eight, Depth::Sixteen, Depth::Indexed] {
            let mut bytes = Vec::new();
            let cells: Vec<(u16, u16, &Cell)> = buf
                .content()
                .iter()
                .enumerate()
                .map(|(i, c)| ((i % 20) as u16, (i / 20) as u16, c))
                .collect();
            DepthBackend::new(&mut bytes, depth)
                .draw(cells.into_iter())
                .unwrap();
            let out = String::from_utf8(bytes).unwrap();
            assert!(
                !out.contains("38;5;") && !out.contains("[59m"),
                "{depth:?}: {out:?}"
            );
            assert!(out.contains("OVERDUE") && out.contains("muted"));
            assert_eq!(out.contains("31m"), depth != Depth::None, "{depth:?}");
        }
    }
}
