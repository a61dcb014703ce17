//! Folding Vietnamese text for search: pure, no I/O, no allocation beyond the output.
//!
//! Owns: turning any spelling of a Vietnamese word (with or without tone marks and vowel marks,
//! upper or lower case, precomposed or decomposed) into one search key, and cutting text into
//! such keys. "Đăng ký khai sinh", "đăng ky khai sinh" and "DANG KY KHAI SINH" all fold to
//! `dang ky khai sinh`. Does not own ranking or storage (`catalogue`).
//!
//! Why a table and not Unicode normalisation: the Vietnamese alphabet has 12 vowel letters × 6
//! tones plus `đ`, 134 precomposed letters in both cases, and NFD alone would not fold `đ`/`Đ`
//! (U+0111 has no decomposition, which is also why SQLite FTS5's `remove_diacritics` misses it).
//! `unicode-normalization` is not in the dependency tree; a `match` over the letters is exact,
//! small, and needs no data tables at run time. Decomposed input (a base letter followed by
//! combining marks, as some keyboards and macOS file names produce) folds the same way because
//! every combining mark (U+0300..U+036F) is dropped.

/// What one character becomes in a search key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folded {
    /// Part of a word: the folded, lower-case ASCII letter or digit (or another script's
    /// lower-case letter, kept as it is).
    Letter(char),
    /// A combining mark: dropped, the word goes on.
    Mark,
    /// Anything else (space, punctuation, symbols): ends a word.
    Separator,
}

/// Folds one character: Vietnamese letters to their base ASCII letter, lower case.
pub fn fold_char(c: char) -> Folded {
    if c.is_ascii() {
        return match c {
            'a'..='z' | '0'..='9' => Folded::Letter(c),
            'A'..='Z' => Folded::Letter(c.to_ascii_lowercase()),
            _ => Folded::Separator,
        };
    }
    let base = match c {
        'à' | 'á' | 'ả' | 'ã' | 'ạ' | 'ă' | 'ằ' | 'ắ' | 'ẳ' | 'ẵ' | 'ặ' | 'â' | 'ầ' | 'ấ' | 'ẩ'
        | 'ẫ' | 'ậ' | 'À' | 'Á' | 'Ả' | 'Ã' | 'Ạ' | 'Ă' | 'Ằ' | 'Ắ' | 'Ẳ' | 'Ẵ' | 'Ặ' | 'Â'
        | 'Ầ' | 'Ấ' | 'Ẩ' | 'Ẫ' | 'Ậ' => 'a',
        'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' | 'ê' | 'ề' | 'ế' | 'ể' | 'ễ' | 'ệ' | 'È' | 'É' | 'Ẻ' | 'Ẽ'
        | 'Ẹ' | 'Ê' | 'Ề' | 'Ế' | 'Ể' | 'Ễ' | 'Ệ' => 'e',
        'ì' | 'í' | 'ỉ' | 'ĩ' | 'ị' | 'Ì' | 'Í' | 'Ỉ' | 'Ĩ' | 'Ị' => 'i',
        'ò' | 'ó' | 'ỏ' | 'õ' | 'ọ' | 'ô' | 'ồ' | 'ố' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ờ' | 'ớ' | 'ở'
        | 'ỡ' | 'ợ' | 'Ò' | 'Ó' | 'Ỏ' | 'Õ' | 'Ọ' | 'Ô' | 'Ồ' | 'Ố' | 'Ổ' | 'Ỗ' | 'Ộ' | 'Ơ'
        | 'Ờ' | 'Ớ' | 'Ở' | 'Ỡ' | 'Ợ' => 'o',
        'ù' | 'ú' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' | 'Ù' | 'Ú' | 'Ủ' | 'Ũ'
        | 'Ụ' | 'Ư' | 'Ừ' | 'Ứ' | 'Ử' | 'Ữ' | 'Ự' => 'u',
        'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' | 'Ỳ' | 'Ý' | 'Ỷ' | 'Ỹ' | 'Ỵ' => 'y',
        'đ' | 'Đ' => 'd',
        '\u{0300}'..='\u{036F}' => return Folded::Mark,
        _ if c.is_alphanumeric() => {
            // Another script's letter: lower-cased when that gives one character, kept otherwise.
            let mut lower = c.to_lowercase();
            return match (lower.next(), lower.next()) {
                (Some(l), None) => Folded::Letter(l),
                _ => Folded::Letter(c),
            };
        }
        _ => return Folded::Separator,
    };
    Folded::Letter(base)
}

/// The words of `text`, folded, in order (repeats kept).
pub fn tokens(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        match fold_char(c) {
            Folded::Letter(l) => word.push(l),
            Folded::Mark => {}
            Folded::Separator => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `text` folded into one key: its words joined by single spaces.
pub fn fold(text: &str) -> String {
    tokens(text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vowel letter of the Vietnamese alphabet with each of the six tones (none, huyền,
    /// sắc, hỏi, ngã, nặng), lower case, and its base letter.
    const TONED_VOWELS: [(char, [char; 6]); 12] = [
        ('a', ['a', 'à', 'á', 'ả', 'ã', 'ạ']),
        ('a', ['ă', 'ằ', 'ắ', 'ẳ', 'ẵ', 'ặ']),
        ('a', ['â', 'ầ', 'ấ', 'ẩ', 'ẫ', 'ậ']),
        ('e', ['e', 'è', 'é', 'ẻ', 'ẽ', 'ẹ']),
        ('e', ['ê', 'ề', 'ế', 'ể', 'ễ', 'ệ']),
        ('i', ['i', 'ì', 'í', 'ỉ', 'ĩ', 'ị']),
        ('o', ['o', 'ò', 'ó', 'ỏ', 'õ', 'ọ']),
        ('o', ['ô', 'ồ', 'ố', 'ổ', 'ỗ', 'ộ']),
        ('o', ['ơ', 'ờ', 'ớ', 'ở', 'ỡ', 'ợ']),
        ('u', ['u', 'ù', 'ú', 'ủ', 'ũ', 'ụ']),
        ('u', ['ư', 'ừ', 'ứ', 'ử', 'ữ', 'ự']),
        ('y', ['y', 'ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ']),
    ];

    /// The consonants of the Vietnamese alphabet (with the f, j, w, z of loan words).
    const CONSONANTS: &str = "bcdđfghjklmnpqrstvwxz";

    #[test]
    fn every_vowel_with_every_tone_folds_to_its_base_letter_in_both_cases() {
        let mut seen = 0;
        for (base, letters) in TONED_VOWELS {
            for letter in letters {
                let upper: Vec<char> = letter.to_uppercase().collect();
                assert_eq!(upper.len(), 1, "{letter}");
                assert_eq!(fold_char(letter), Folded::Letter(base), "{letter}");
                assert_eq!(fold_char(upper[0]), Folded::Letter(base), "{}", upper[0]);
                seen += 2;
            }
        }
        assert_eq!(seen, 144);
    }

    #[test]
    fn every_consonant_folds_with_d_stroke_included() {
        for c in CONSONANTS.chars() {
            let base = if c == 'đ' { 'd' } else { c };
            assert_eq!(fold_char(c), Folded::Letter(base), "{c}");
            let upper = c.to_uppercase().next().unwrap();
            assert_eq!(fold_char(upper), Folded::Letter(base), "{upper}");
        }
        assert_eq!(fold_char('Đ'), Folded::Letter('d'));
        assert_eq!(fold_char('đ'), Folded::Letter('d'));
    }

    #[test]
    fn decomposed_text_folds_like_precomposed_text() {
        // "Đăng ký" typed as base letters followed by combining breve, acute, ...
        let decomposed = "\u{0110}a\u{0306}ng ky\u{0301} khai sinh";
        assert_eq!(fold(decomposed), "dang ky khai sinh");
        // ệ as e + circumflex + dot below, ữ as u + horn + tilde.
        assert_eq!(fold("Vie\u{0302}\u{0323}t"), "viet");
        assert_eq!(fold("nhu\u{031B}\u{0303}ng"), "nhung");
        for (_, letters) in TONED_VOWELS {
            for mark in ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'] {
                let base = letters[0];
                assert_eq!(fold_char(mark), Folded::Mark);
                assert_eq!(
                    fold(&format!("{base}{mark}")),
                    fold(&base.to_string()),
                    "{base}+{mark:?}"
                );
            }
        }
    }

    #[test]
    fn the_three_spellings_of_the_issue_fold_alike() {
        let key = "dang ky khai sinh";
        assert_eq!(fold("dang ky khai sinh"), key);
        assert_eq!(fold("Đăng ký khai sinh"), key);
        assert_eq!(fold("đăng ky khai sinh"), key);
        assert_eq!(fold("  ĐĂNG   KÝ, khai-sinh! "), key);
    }

    #[test]
    fn whole_words_of_real_procedure_names() {
        assert_eq!(
            fold("Cấp đổi thẻ Căn cước cho công dân từ đủ 14 tuổi"),
            "cap doi the can cuoc cho cong dan tu du 14 tuoi"
        );
        assert_eq!(
            fold("Đăng ký thường trú; Xóa đăng ký tạm trú"),
            "dang ky thuong tru xoa dang ky tam tru"
        );
        assert_eq!(
            fold("Cấp Phiếu lý lịch tư pháp số 1"),
            "cap phieu ly lich tu phap so 1"
        );
        assert_eq!(
            fold("Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở"),
            "giay chung nhan quyen su dung dat quyen so huu nha o"
        );
        assert_eq!(
            tokens("Thủ tục 1.001193 (mức độ 4)"),
            ["thu", "tuc", "1", "001193", "muc", "do", "4"]
        );
    }

    #[test]
    fn separators_and_empty_text() {
        assert!(tokens("").is_empty());
        assert!(tokens(" ,.;:-–—/()\"'\t\n").is_empty());
        assert_eq!(fold("a–b—c/d"), "a b c d");
        // Other scripts keep their letters, lower-cased.
        assert_eq!(fold("Ünïcode ΣΑ"), "ünïcode σα");
    }

    #[test]
    fn folding_is_idempotent_and_ascii_for_vietnamese() {
        let text =
            "Tiếng Việt có các chữ ă â đ ê ô ơ ư và năm dấu thanh: huyền, sắc, hỏi, ngã, nặng";
        let once = fold(text);
        assert!(once.is_ascii());
        assert_eq!(fold(&once), once);
    }
}
