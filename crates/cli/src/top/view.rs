//! Drawing: the model's tables laid out to fit the terminal. At 80×24 and
//! above every pane shows; below that the stages and the pane chosen with
//! Tab; below 40×8, one line per stage.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table as TableWidget};
use ratatui::Frame;

use super::model::Model;
use super::rows::{self, Sort, Table, Tone};

/// The panes below the stages, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Verdicts,
    DeadLetters,
    Lag,
    Sources,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Verdicts, Pane::DeadLetters, Pane::Lag, Pane::Sources];

    pub fn next(self) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ALL[(i + 1) % Pane::ALL.len()]
    }
}

/// What the keys changed.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    pub paused: bool,
    pub help: bool,
    pub pane: Pane,
    pub sort: Sort,
    pub stale: Duration,
    /// Where the numbers come from, for the title line.
    pub source: String,
}

pub fn table(m: &Model, ui: &Ui, pane: Pane) -> Table {
    match pane {
        Pane::Verdicts => rows::verdicts(m),
        Pane::DeadLetters => rows::dead_letters(m, ui.sort),
        Pane::Lag => rows::lag(m),
        Pane::Sources => rows::sources(m, ui.sort, ui.stale),
    }
}

pub fn draw(frame: &mut Frame, m: &Model, ui: &Ui) {
    let area = frame.area();
    if area.width < 40 || area.height < 8 {
        draw_tiny(frame, m, area);
        return;
    }
    let [title, stages, rest, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(title_line(m, ui), title);
    // The trend column goes first when the stages do not fit.
    let trend = if area.width >= 80 { 12 } else { 0 };
    draw_table(frame, stages, &rows::stages(m, trend), false);
    if area.width >= 80 && area.height >= 24 {
        let [top, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(rest);
        let halves =
            |r: Rect| Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas::<2>(r);
        let cells = [halves(top), halves(bottom)].concat();
        for (pane, cell) in Pane::ALL.iter().zip(cells) {
            draw_table(frame, cell, &table(m, ui, *pane), *pane == ui.pane);
        }
    } else {
        draw_table(frame, rest, &table(m, ui, ui.pane), true);
    }
    frame.render_widget(footer_line(m, ui), footer);
    if ui.help {
        draw_help(frame, area);
    }
}

fn title_line(m: &Model, ui: &Ui) -> Paragraph<'static> {
    let clock = chrono::DateTime::from_timestamp(m.wall as i64, 0)
        .map(|t| t.format("%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let mut spans = vec![
        Span::styled("wirestream top", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("  {clock}  {}", ui.source)),
    ];
    if ui.paused {
        spans.push(Span::styled(
            "  PAUSED",
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ));
    }
    Paragraph::new(Line::from(spans))
}

fn footer_line(m: &Model, ui: &Ui) -> Paragraph<'static> {
    let problems = rows::problems(m);
    let keys = "q quit  p pause  tab pane  s sort  ? help";
    if problems.is_empty() {
        let sort = match ui.sort {
            Sort::Most => "most first",
            Sort::Name => "by name",
        };
        Paragraph::new(format!("{keys}  ·  sorted {sort}")).style(Style::new().fg(Color::DarkGray))
    } else {
        Paragraph::new(Line::from(vec![
            Span::styled(
                problems.join("; "),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("  ·  {keys}"), Style::new().fg(Color::DarkGray)),
        ]))
    }
}

fn style(tone: Tone) -> Style {
    match tone {
        Tone::Normal => Style::new(),
        Tone::Warn => Style::new().fg(Color::Yellow),
        Tone::Bad => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

fn draw_table(frame: &mut Frame, area: Rect, table: &Table, focused: bool) {
    let border = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(
            format!(" {} ", table.title),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (rows_area, note_area) = match &table.note {
        Some(_) if inner.height > 2 => {
            let [a, b] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
            (a, Some(b))
        }
        _ => (inner, None),
    };
    let widths: Vec<Constraint> = table
        .header
        .iter()
        .enumerate()
        .map(|(i, (_, w))| {
            // The first column takes what is left (long source names).
            if i == 0 {
                Constraint::Min(*w)
            } else {
                Constraint::Length(*w)
            }
        })
        .collect();
    let header = Row::new(table.header.iter().map(|(h, _)| Cell::from(*h)))
        .style(Style::new().add_modifier(Modifier::UNDERLINED));
    let body: Vec<Row> = table
        .rows
        .iter()
        .map(|r| Row::new(r.cells.iter().map(|c| Cell::from(c.clone()))).style(style(r.tone)))
        .collect();
    frame.render_widget(TableWidget::new(body, widths).header(header), rows_area);
    if table.rows.is_empty() && rows_area.height > 1 {
        let below = Rect {
            y: rows_area.y + 1,
            height: 1,
            ..rows_area
        };
        frame.render_widget(
            Paragraph::new("(none yet)").style(Style::new().fg(Color::DarkGray)),
            below,
        );
    }
    if let (Some(note), Some(area)) = (&table.note, note_area) {
        frame.render_widget(Paragraph::new(note.clone()), area);
    }
}

fn draw_tiny(frame: &mut Frame, m: &Model, area: Rect) {
    let table = rows::stages(m, 0);
    let lines: Vec<Line> = table
        .rows
        .iter()
        .map(|r| {
            Line::styled(
                format!("{} {} {}/s", r.cells[0], r.cells[1], r.cells[2]),
                style(r.tone),
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_help(frame: &mut Frame, area: Rect) {
    let text = [
        "q      quit",
        "p      pause / resume the view",
        "tab    next pane (below 80x24, the one shown)",
        "s      sort: most first / by name",
        "?      this help (any key closes it)",
        "",
        "now/s: the last 5 s; since top: since this view",
        "started, across service restarts; since start:",
        "as the service exports it. Latencies: the last",
        "minute, else since the service started.",
    ];
    let width = 54.min(area.width);
    let height = (text.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text.join("\n"))
            .block(Block::default().borders(Borders::ALL).title(" help ")),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::model::tests::round;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::time::Instant;

    fn screen(m: &Model, ui: &Ui, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, m, ui)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn model() -> Model {
        let t0 = Instant::now();
        let mut m = Model::default();
        for s in 0..3u64 {
            let n = 100 * s;
            let worker = format!(
                "wirestream_worker_items_consumed_total{{source=\"a\"}} {n}\n\
                 wirestream_worker_verdicts_total{{verdict=\"new\",provider=\"p\"}} {n}\n\
                 wirestream_dead_letters_total{{stage=\"worker\",reason=\"empty_article\"}} 2\n"
            );
            let ingest = format!(
                "wirestream_ingest_items_received_total{{source=\"spool:in\",format=\"x\"}} {n}\n\
                 wirestream_ingest_last_item_timestamp_seconds{{source=\"spool:in\"}} 1000\n"
            );
            m.ingest(&round(
                t0 + Duration::from_secs(s),
                5000.0,
                [
                    &ingest,
                    &worker,
                    "wirestream_sink_rows_stored_total{table=\"articles\"} 5\n",
                ],
            ));
        }
        m
    }

    #[test]
    fn every_pane_fits_80_by_24() {
        let ui = Ui {
            stale: Duration::from_secs(900),
            ..Ui::default()
        };
        let text = screen(&model(), &ui, 80, 24);
        for expected in [
            "stages",
            "verdicts",
            "dead letters by reason",
            "consumer lag",
            "feeds and spool",
            "empty_article",
            "spool:in",
            "(none yet)",
            "1h06m ago",
        ] {
            assert!(text.contains(expected), "{expected} not drawn:\n{text}");
        }
        // The worker moved 100 items a second; the sink exported 5 since start.
        let worker = text
            .lines()
            .find(|l| l.contains("worker") && l.contains("ready"))
            .unwrap();
        assert!(worker.contains(" 100 "), "{worker}");
    }

    #[test]
    fn small_terminals_show_the_chosen_pane() {
        let mut ui = Ui {
            pane: Pane::Sources,
            ..Ui::default()
        };
        let text = screen(&model(), &ui, 60, 16);
        assert!(
            text.contains("spool:in") && !text.contains("verdicts"),
            "{text}"
        );
        let tiny = screen(&model(), &ui, 30, 5);
        assert!(tiny.contains("worker ready 100/s"), "{tiny}");
        ui.help = true;
        assert!(screen(&model(), &ui, 80, 24).contains("pause / resume"));
    }
}
