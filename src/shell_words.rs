//! Splitting a command line into an argument vector the way a POSIX shell splits words —
//! quotes and backslashes only. Nothing is expanded (`$HOME`, `*`, `~` stay as typed) and
//! `|`, `;`, `>` are plain characters: for those, run `sh -c "..."`.

/// The words of `line`: whitespace separates them; `'...'` keeps everything literally;
/// `"..."` keeps everything but `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes keeps
/// the next character. `''` is an empty word. The error says what is unbalanced.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word can be empty (`''`) yet exist, so "in a word" is tracked apart from its text.
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a single quote (') is not closed".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a double quote (\") is not closed".to_string()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a double quote (\") is not closed".to_string()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a backslash (\\) ends the line".to_string()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// One line that [`split`] turns back into `words`: a word that is not plain is put in single
/// quotes (a `'` inside as `'\''`), so an argument vector survives a trip through one string.
pub fn join(words: &[String]) -> String {
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c))
    };
    let quoted: Vec<String> = words
        .iter()
        .map(|w| match plain(w) {
            true => w.clone(),
            false => format!("'{}'", w.replace('\'', "'\\''")),
        })
        .collect();
    quoted.join(" ")
}

#[cfg(test)]
mod tests {
    use super::{join, split};

    #[test]
    fn join_is_undone_by_split() {
        let words: Vec<String> = [
            "python3",
            "-c",
            "print('a b')",
            "",
            "it's",
            "$HOME \\ \"x\"",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        assert_eq!(split(&join(&words)), Ok(words.clone()));
        assert_eq!(join(&words[..1]), "python3");
    }

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn whitespace_separates_words() {
        assert_eq!(ok("  sort  -r\t-n "), ["sort", "-r", "-n"]);
        assert!(ok("   ").is_empty());
        assert!(ok("").is_empty());
    }

    #[test]
    fn quotes_keep_spaces_and_nothing_is_expanded() {
        assert_eq!(
            ok(r#"sh -c "echo hello from $$; exit 0""#),
            ["sh", "-c", "echo hello from $$; exit 0"]
        );
        assert_eq!(ok("echo 'a  b' $HOME *"), ["echo", "a  b", "$HOME", "*"]);
        assert_eq!(ok(r#"a"b c"'d e'f"#), ["ab cd ef"]);
        assert_eq!(ok("x '' \"\""), ["x", "", ""]);
    }

    #[test]
    fn backslashes_as_a_shell_reads_them() {
        assert_eq!(ok(r"a\ b c"), ["a b", "c"]);
        assert_eq!(ok(r#""say \"hi\" \$x \n""#), [r#"say "hi" $x \n"#]);
        assert_eq!(ok(r"'\n'"), [r"\n"]);
    }

    #[test]
    fn unbalanced_input_is_an_error_that_says_what() {
        assert!(split("sh -c 'echo").unwrap_err().contains("single quote"));
        assert!(split("sh -c \"echo").unwrap_err().contains("double quote"));
        assert!(split("echo \\").unwrap_err().contains("backslash"));
    }

    mod properties {
        use super::split;
        use proptest::prelude::*;

        /// Each word in single quotes, a quote itself as `'\''`: how a shell user writes it.
        fn quoted(words: &[String]) -> String {
            let quote = |w: &String| format!("'{}'", w.replace('\'', r"'\''"));
            words.iter().map(quote).collect::<Vec<_>>().join(" ")
        }

        /// Any text, and text made of what the splitter gives a meaning to.
        fn text(max: usize) -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter),
                "[ \t'\"\\$`a-c]{0,30}",
            ]
        }

        proptest! {
            #[test]
            fn any_line_splits_or_says_why_and_its_words_quote_back(line in text(60)) {
                if let Ok(words) = split(&line) {
                    prop_assert_eq!(split(&quoted(&words)), Ok(words));
                }
            }

            #[test]
            fn quoted_words_split_back(words in proptest::collection::vec(text(12), 0..6)) {
                prop_assert_eq!(split(&quoted(&words)), Ok(words));
            }
        }
    }
}
