//! Braille area graphs: a history drawn several rows tall, two samples to a cell and four
//! levels to a row (the way btop draws its CPU graphs), so a core's last minutes fit in a few
//! lines and still show their shape.

/// A braille cell's dots from the bottom up: the left column, then the right one.
const LEFT: [u32; 4] = [0x40, 0x04, 0x02, 0x01];
const RIGHT: [u32; 4] = [0x80, 0x20, 0x10, 0x08];
/// The empty braille pattern; each dot adds its bit to it.
const BLANK: u32 = 0x2800;

/// Dots (0 to `rows` × 4) a value of 0–100 fills from the bottom. Any load above half a
/// percent shows as one dot at least, as the sparklines show it as their lowest bar.
fn dots(value: f32, rows: usize) -> usize {
    let filled = (value.clamp(0.0, 100.0) / 100.0 * (rows * 4) as f32).round() as usize;
    if value > 0.5 { filled.max(1) } else { filled }
}

/// The newest `2 × width` values (0–100) as a filled graph `rows` tall: the rows' text, top
/// first, each `width` cells, newest on the right; where there is no history yet, blank.
pub fn area_graph<'a>(
    values: impl DoubleEndedIterator<Item = &'a f32> + ExactSizeIterator,
    width: usize,
    rows: usize,
) -> Vec<String> {
    let samples = 2 * width;
    let skip = values.len().saturating_sub(samples);
    // Heights right-aligned in `samples` slots: None where the history does not reach.
    let mut heights = vec![None; samples];
    let known = values.len() - skip;
    for (slot, value) in heights[samples - known..].iter_mut().zip(values.skip(skip)) {
        *slot = Some(dots(*value, rows));
    }
    (0..rows)
        .map(|row| {
            // Dots below this row, from the bottom of the graph.
            let base = (rows - 1 - row) * 4;
            heights
                .chunks(2)
                .map(|pair| {
                    let bits = |height: Option<usize>, column: &[u32; 4]| -> u32 {
                        let fill = height.unwrap_or(0).saturating_sub(base).min(4);
                        column[..fill].iter().sum()
                    };
                    let pattern = bits(pair[0], &LEFT) | bits(pair[1], &RIGHT);
                    if pattern == 0 {
                        ' '
                    } else {
                        char::from_u32(BLANK + pattern).unwrap_or(' ')
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_load_fills_every_dot_and_none_fills_none() {
        let full = [100.0f32; 4];
        assert_eq!(area_graph(full.iter(), 2, 2), ["⣿⣿", "⣿⣿"]);
        let idle = [0.0f32; 4];
        assert_eq!(area_graph(idle.iter(), 2, 2), ["  ", "  "]);
    }

    #[test]
    fn half_a_load_fills_the_lower_half_and_the_newest_is_on_the_right() {
        // Two rows are eight dots: 50% is four, the whole bottom row.
        let v = [50.0f32, 100.0];
        assert_eq!(
            area_graph(v.iter(), 1, 2),
            ["⢸", "⣿"],
            "the right column full"
        );
        let v = [0.0f32, 50.0];
        assert_eq!(area_graph(v.iter(), 2, 2), ["  ", " ⢸"]);
    }

    #[test]
    fn a_short_history_is_blank_on_the_left_and_a_tiny_load_still_shows() {
        let v = [1.0f32];
        // One sample: the right half of the last cell, one dot at the bottom.
        assert_eq!(area_graph(v.iter(), 3, 1), ["  ⢀"]);
    }

    #[test]
    fn only_the_newest_values_that_fit_are_drawn() {
        let v: Vec<f32> = (0..100).map(|i| if i < 96 { 100.0 } else { 0.0 }).collect();
        assert_eq!(area_graph(v.iter(), 2, 1), ["  "], "the last four are idle");
    }
}
