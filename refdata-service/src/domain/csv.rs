//! A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF line ends. Every record
//! keeps the line number it starts on so validation errors can point at it.

use thiserror::Error;

/// One record of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number where the record starts.
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    #[error("line {line}: quoted field is never closed")]
    UnterminatedQuote { line: usize },
    #[error("line {line}: unexpected character {found:?} after a closing quote")]
    TextAfterQuote { line: usize, found: char },
}

/// Parses `input` into records. Blank lines are skipped.
pub fn parse(input: &str) -> Result<Vec<Record>, CsvError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut records = Vec::new();
    let mut chars = input.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => return Err(CsvError::UnterminatedQuote { line: start_line }),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(ch) => {
                                if ch == '\n' {
                                    line += 1;
                                }
                                field.push(ch);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(&found) => return Err(CsvError::TextAfterQuote { line, found }),
                    }
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(ch) => field.push(ch),
            }
        }
        let blank = fields.len() == 1 && fields[0].trim().is_empty();
        if !blank {
            records.push(Record {
                line: start_line,
                fields,
            });
        }
    }
    Ok(records)
}

/// Quotes `value` for output when it contains a separator, quote or line break.
pub fn quote(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_fields_and_line_numbers() {
        let records = parse("a,b\n\n\"x, \"\"y\"\"\",2\r\n3,\"multi\nline\"\n4,5").unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(records[1].line, 3);
        assert_eq!(records[1].fields, vec!["x, \"y\"", "2"]);
        assert_eq!(records[2].fields, vec!["3", "multi\nline"]);
        assert_eq!(records[3].line, 6);
        assert_eq!(records[3].fields, vec!["4", "5"]);
    }

    #[test]
    fn rejects_unterminated_quote() {
        assert_eq!(
            parse("a,b\n1,\"open\n"),
            Err(CsvError::UnterminatedQuote { line: 2 })
        );
    }

    #[test]
    fn rejects_text_after_closing_quote() {
        assert!(matches!(
            parse("\"a\"b,c\n"),
            Err(CsvError::TextAfterQuote {
                line: 1,
                found: 'b'
            })
        ));
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a, \"b\""), "\"a, \"\"b\"\"\"");
    }
}
