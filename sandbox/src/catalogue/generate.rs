//! The sandbox's generated procedure catalogue: real procedure families of Vietnamese public
//! administration, each in its real variants, published by real-sounding agencies at the four
//! levels (ministries; a province's Sở, police and social insurance; a district's People's
//! Committee, police and social insurance; a commune's People's Committee and police) across
//! real provinces, districts and wards. Deterministic: the same seed always gives the same
//! catalogue, codes included.

use citizen_core::dossier::wire::{
    Agency, AttachmentRule, Fee, FieldKind, FormField, Level, Procedure, SelectOption,
};

/// The seed of the sandbox's catalogue.
pub const SEED: u64 = 0x5EED_CA7A_1096_2026;

/// A small deterministic generator (SplitMix64): no dependency, the same sequence everywhere.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Which line of government handles a family, which decides the agency's name at each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sector {
    Justice,
    Police,
    Immigration,
    Construction,
    Land,
    Planning,
    Transport,
    SocialInsurance,
    Health,
    Labour,
    Foreign,
}

impl Sector {
    fn index(self) -> u32 {
        self as u32 + 1
    }

    fn central(self) -> &'static str {
        match self {
            Sector::Justice => "Bộ Tư pháp",
            Sector::Police => "Bộ Công an",
            Sector::Immigration => "Cục Quản lý xuất nhập cảnh - Bộ Công an",
            Sector::Construction => "Bộ Xây dựng",
            Sector::Land => "Bộ Tài nguyên và Môi trường",
            Sector::Planning => "Bộ Kế hoạch và Đầu tư",
            Sector::Transport => "Bộ Giao thông vận tải",
            Sector::SocialInsurance => "Bảo hiểm xã hội Việt Nam",
            Sector::Health => "Bộ Y tế",
            Sector::Labour => "Bộ Lao động - Thương binh và Xã hội",
            Sector::Foreign => "Bộ Ngoại giao",
        }
    }

    fn province(self, province: &str) -> String {
        match self {
            Sector::Justice => format!("Sở Tư pháp {province}"),
            Sector::Police | Sector::Immigration => format!("Công an {province}"),
            Sector::Construction => format!("Sở Xây dựng {province}"),
            Sector::Land => format!("Sở Tài nguyên và Môi trường {province}"),
            Sector::Planning | Sector::Foreign => format!("Sở Kế hoạch và Đầu tư {province}"),
            Sector::Transport => format!("Sở Giao thông vận tải {province}"),
            Sector::SocialInsurance => format!("Bảo hiểm xã hội {province}"),
            Sector::Health => format!("Sở Y tế {province}"),
            Sector::Labour => format!("Sở Lao động - Thương binh và Xã hội {province}"),
        }
    }

    fn district(self, district: &str, province: &str) -> String {
        match self {
            Sector::Police | Sector::Immigration => format!("Công an {district}, {province}"),
            Sector::SocialInsurance => format!("Bảo hiểm xã hội {district}, {province}"),
            _ => format!("UBND {district}, {province}"),
        }
    }

    fn commune(self, commune: &str, district: &str) -> String {
        match self {
            Sector::Police | Sector::Immigration => format!("Công an {commune}, {district}"),
            _ => format!("UBND {commune}, {district}"),
        }
    }
}

/// The form's building blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Birth,
    Death,
    Marriage,
    CivilStatus,
    Certification,
    Residence,
    Identity,
    Passport,
    Land,
    Building,
    Business,
    Company,
    SocialInsurance,
    HealthInsurance,
    Welfare,
    CriminalRecord,
    Licence,
    Professional,
}

/// One procedure family: its variants' names, where it is handled, and what it asks for.
struct Family {
    level: Level,
    sector: Sector,
    names: &'static [&'static str],
    keywords: &'static [&'static str],
    /// Who may use it and what it yields, one sentence.
    about: &'static str,
    /// Working days, before a variant's seeded spread.
    days: u32,
    /// `None`: free. Otherwise the fee line and its amount in đồng.
    fee: Option<(&'static str, u64)>,
    form: Form,
}

const FAMILIES: &[Family] = &[
    // --- commune ---------------------------------------------------------------------------
    Family {
        level: Level::Commune,
        sector: Sector::Justice,
        names: &[
            "Đăng ký khai sinh",
            "Đăng ký lại khai sinh",
            "Đăng ký khai sinh kết hợp nhận cha, mẹ, con",
            "Đăng ký khai sinh lưu động",
            "Cấp bản sao trích lục khai sinh",
        ],
        keywords: &["giấy khai sinh", "khai sinh cho con", "birth registration"],
        about: "Cha, mẹ hoặc người thân đăng ký khai sinh cho trẻ em sinh ra tại Việt Nam; kết quả là Giấy khai sinh bản chính và bản sao trích lục.",
        days: 0,
        fee: None,
        form: Form::Birth,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Justice,
        names: &[
            "Đăng ký khai tử",
            "Đăng ký lại khai tử",
            "Đăng ký khai tử lưu động",
        ],
        keywords: &["giấy chứng tử", "trích lục khai tử", "death registration"],
        about: "Người thân của người chết đăng ký khai tử trong thời hạn 15 ngày kể từ ngày có người chết; kết quả là Trích lục khai tử.",
        days: 0,
        fee: None,
        form: Form::Death,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Justice,
        names: &[
            "Đăng ký kết hôn",
            "Đăng ký lại kết hôn",
            "Đăng ký kết hôn lưu động",
            "Cấp Giấy xác nhận tình trạng hôn nhân",
        ],
        keywords: &[
            "giấy chứng nhận kết hôn",
            "đăng ký cưới",
            "marriage registration",
        ],
        about: "Nam, nữ đủ điều kiện kết hôn cùng có mặt để đăng ký; kết quả là Giấy chứng nhận kết hôn.",
        days: 0,
        fee: None,
        form: Form::Marriage,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Justice,
        names: &[
            "Đăng ký giám hộ",
            "Đăng ký chấm dứt giám hộ",
            "Đăng ký nhận cha, mẹ, con",
            "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
        ],
        keywords: &["hộ tịch", "cải chính hộ tịch", "civil status"],
        about: "Cá nhân yêu cầu đăng ký, thay đổi hoặc cải chính việc hộ tịch của mình hoặc của người được giám hộ; kết quả là Trích lục hộ tịch.",
        days: 3,
        fee: Some(("Lệ phí hộ tịch", 15_000)),
        form: Form::CivilStatus,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Justice,
        names: &[
            "Chứng thực bản sao từ bản chính",
            "Chứng thực chữ ký trong các giấy tờ, văn bản",
            "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
            "Chứng thực văn bản thỏa thuận phân chia di sản",
        ],
        keywords: &["công chứng", "sao y bản chính", "chứng thực"],
        about: "Cá nhân, tổ chức yêu cầu chứng thực giấy tờ, chữ ký hoặc hợp đồng; kết quả là văn bản được chứng thực.",
        days: 1,
        fee: Some(("Phí chứng thực", 10_000)),
        form: Form::Certification,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Police,
        names: &[
            "Đăng ký thường trú",
            "Xóa đăng ký thường trú",
            "Tách hộ",
            "Điều chỉnh thông tin về cư trú trong Cơ sở dữ liệu về cư trú",
            "Xác nhận thông tin về cư trú",
        ],
        keywords: &[
            "hộ khẩu",
            "nhập hộ khẩu",
            "cư trú",
            "residence registration",
        ],
        about: "Công dân có chỗ ở hợp pháp đăng ký hoặc điều chỉnh nơi thường trú; thông tin được cập nhật vào Cơ sở dữ liệu về cư trú.",
        days: 7,
        fee: Some(("Lệ phí đăng ký cư trú", 20_000)),
        form: Form::Residence,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Police,
        names: &[
            "Đăng ký tạm trú",
            "Gia hạn tạm trú",
            "Xóa đăng ký tạm trú",
            "Khai báo tạm vắng",
            "Thông báo lưu trú",
        ],
        keywords: &[
            "sổ tạm trú",
            "KT3",
            "tạm trú tạm vắng",
            "temporary residence",
        ],
        about: "Công dân đến sinh sống tại chỗ ở hợp pháp ngoài nơi thường trú từ 30 ngày trở lên đăng ký tạm trú.",
        days: 3,
        fee: Some(("Lệ phí đăng ký cư trú", 15_000)),
        form: Form::Residence,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Land,
        names: &[
            "Xác nhận nguồn gốc, thời điểm sử dụng đất",
            "Hòa giải tranh chấp đất đai",
        ],
        keywords: &["đất đai", "tranh chấp đất", "sổ đỏ"],
        about: "Người sử dụng đất đề nghị Ủy ban nhân dân cấp xã xác nhận hoặc hòa giải; kết quả là văn bản xác nhận hoặc biên bản hòa giải.",
        days: 30,
        fee: None,
        form: Form::Land,
    },
    Family {
        level: Level::Commune,
        sector: Sector::Labour,
        names: &[
            "Đăng ký hưởng trợ cấp xã hội hằng tháng đối với người cao tuổi",
            "Xác định mức độ khuyết tật và cấp Giấy xác nhận khuyết tật",
            "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
            "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm",
        ],
        keywords: &["bảo trợ xã hội", "trợ cấp", "hộ nghèo", "social assistance"],
        about: "Đối tượng bảo trợ xã hội hoặc gia đình đề nghị hưởng chính sách; kết quả là quyết định của Chủ tịch Ủy ban nhân dân.",
        days: 15,
        fee: None,
        form: Form::Welfare,
    },
    Family {
        level: Level::Commune,
        sector: Sector::SocialInsurance,
        names: &[
            "Đăng ký tham gia bảo hiểm y tế hộ gia đình",
            "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        ],
        keywords: &["thẻ BHYT", "bảo hiểm y tế", "health insurance"],
        about: "Hộ gia đình đăng ký tham gia bảo hiểm y tế qua Ủy ban nhân dân cấp xã; kết quả là thẻ bảo hiểm y tế.",
        days: 5,
        fee: None,
        form: Form::HealthInsurance,
    },
    // --- district --------------------------------------------------------------------------
    Family {
        level: Level::District,
        sector: Sector::Justice,
        names: &[
            "Đăng ký khai sinh có yếu tố nước ngoài",
            "Đăng ký kết hôn có yếu tố nước ngoài",
            "Đăng ký khai tử có yếu tố nước ngoài",
            "Ghi vào Sổ hộ tịch việc kết hôn của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của nước ngoài",
            "Đăng ký thay đổi, cải chính, bổ sung hộ tịch, xác định lại dân tộc",
        ],
        keywords: &[
            "hộ tịch có yếu tố nước ngoài",
            "người nước ngoài",
            "foreign element",
        ],
        about: "Việc hộ tịch có yếu tố nước ngoài do Ủy ban nhân dân cấp huyện giải quyết; kết quả là Giấy chứng nhận hoặc Trích lục hộ tịch.",
        days: 15,
        fee: Some(("Lệ phí hộ tịch có yếu tố nước ngoài", 100_000)),
        form: Form::CivilStatus,
    },
    Family {
        level: Level::District,
        sector: Sector::Planning,
        names: &[
            "Đăng ký thành lập hộ kinh doanh",
            "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
            "Tạm ngừng hoạt động hộ kinh doanh",
            "Chấm dứt hoạt động hộ kinh doanh",
            "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh",
        ],
        keywords: &[
            "đăng ký kinh doanh",
            "giấy phép kinh doanh",
            "hộ kinh doanh cá thể",
            "household business",
        ],
        about: "Cá nhân hoặc thành viên hộ gia đình đăng ký hộ kinh doanh tại Phòng Tài chính - Kế hoạch; kết quả là Giấy chứng nhận đăng ký hộ kinh doanh.",
        days: 3,
        fee: Some(("Lệ phí đăng ký hộ kinh doanh", 100_000)),
        form: Form::Business,
    },
    Family {
        level: Level::District,
        sector: Sector::Construction,
        names: &[
            "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
            "Cấp giấy phép sửa chữa, cải tạo đối với nhà ở riêng lẻ",
            "Điều chỉnh giấy phép xây dựng",
            "Gia hạn giấy phép xây dựng",
            "Cấp giấy phép di dời công trình",
        ],
        keywords: &["giấy phép xây dựng", "xin phép xây nhà", "building permit"],
        about: "Chủ đầu tư nhà ở riêng lẻ đề nghị cấp giấy phép xây dựng trước khi khởi công; kết quả là Giấy phép xây dựng.",
        days: 15,
        fee: Some(("Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", 75_000)),
        form: Form::Building,
    },
    Family {
        level: Level::District,
        sector: Sector::Land,
        names: &[
            "Đăng ký đất đai, tài sản gắn liền với đất lần đầu",
            "Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản gắn liền với đất lần đầu",
            "Đăng ký biến động quyền sử dụng đất do chuyển nhượng, tặng cho, thừa kế",
            "Cấp đổi Giấy chứng nhận quyền sử dụng đất",
            "Chuyển mục đích sử dụng đất",
            "Tách thửa hoặc hợp thửa đất",
        ],
        keywords: &["sổ đỏ", "sổ hồng", "quyền sử dụng đất", "land use right"],
        about: "Người sử dụng đất nộp hồ sơ tại Chi nhánh Văn phòng đăng ký đất đai; kết quả là Giấy chứng nhận quyền sử dụng đất hoặc xác nhận biến động.",
        days: 20,
        fee: Some(("Lệ phí cấp Giấy chứng nhận", 100_000)),
        form: Form::Land,
    },
    Family {
        level: Level::District,
        sector: Sector::Police,
        names: &[
            "Cấp thẻ Căn cước cho công dân từ đủ 14 tuổi",
            "Cấp đổi thẻ Căn cước",
            "Cấp lại thẻ Căn cước",
            "Cấp giấy chứng nhận căn cước",
            "Xác lập danh tính điện tử mức độ 2",
        ],
        keywords: &[
            "căn cước công dân",
            "CCCD",
            "chứng minh nhân dân",
            "VNeID",
            "identity card",
        ],
        about: "Công dân đề nghị cấp, cấp đổi hoặc cấp lại thẻ Căn cước; thu nhận ảnh chân dung và vân tay tại cơ quan Công an.",
        days: 7,
        fee: Some(("Lệ phí cấp đổi thẻ Căn cước", 30_000)),
        form: Form::Identity,
    },
    Family {
        level: Level::District,
        sector: Sector::SocialInsurance,
        names: &[
            "Giải quyết hưởng chế độ thai sản",
            "Giải quyết hưởng trợ cấp ốm đau",
            "Giải quyết hưởng bảo hiểm xã hội một lần",
            "Cấp lại, đổi sổ bảo hiểm xã hội",
            "Cấp lại thẻ bảo hiểm y tế do bị mất, hỏng",
            "Đăng ký tham gia bảo hiểm xã hội tự nguyện",
        ],
        keywords: &["BHXH", "sổ bảo hiểm xã hội", "thai sản", "social insurance"],
        about: "Người lao động hoặc người tham gia bảo hiểm đề nghị giải quyết chế độ; kết quả là quyết định hưởng hoặc sổ, thẻ được cấp.",
        days: 10,
        fee: None,
        form: Form::SocialInsurance,
    },
    // --- province --------------------------------------------------------------------------
    Family {
        level: Level::Province,
        sector: Sector::Justice,
        names: &[
            "Cấp Phiếu lý lịch tư pháp số 1 cho công dân Việt Nam",
            "Cấp Phiếu lý lịch tư pháp số 2 cho công dân Việt Nam",
            "Cấp Phiếu lý lịch tư pháp cho người nước ngoài cư trú tại Việt Nam",
        ],
        keywords: &["lý lịch tư pháp", "lý lịch", "criminal record certificate"],
        about: "Cá nhân yêu cầu cấp Phiếu lý lịch tư pháp để xin việc, du học, định cư; kết quả là Phiếu lý lịch tư pháp.",
        days: 10,
        fee: Some(("Phí cung cấp thông tin lý lịch tư pháp", 200_000)),
        form: Form::CriminalRecord,
    },
    Family {
        level: Level::Province,
        sector: Sector::Justice,
        names: &[
            "Đăng ký hành nghề và cấp Thẻ công chứng viên",
            "Đăng ký hoạt động của tổ chức hành nghề luật sư",
        ],
        keywords: &["công chứng viên", "luật sư", "hành nghề"],
        about: "Người đủ điều kiện hành nghề đăng ký với Sở Tư pháp; kết quả là Thẻ hoặc Giấy đăng ký hoạt động.",
        days: 10,
        fee: Some(("Phí thẩm định", 500_000)),
        form: Form::Professional,
    },
    Family {
        level: Level::Province,
        sector: Sector::Immigration,
        names: &[
            "Cấp hộ chiếu phổ thông ở trong nước",
            "Cấp lại hộ chiếu phổ thông do bị mất",
            "Khai báo mất hộ chiếu phổ thông",
        ],
        keywords: &["hộ chiếu", "passport", "xuất cảnh", "làm hộ chiếu"],
        about: "Công dân Việt Nam đề nghị cấp hộ chiếu phổ thông tại Phòng Quản lý xuất nhập cảnh; kết quả là hộ chiếu phổ thông có gắn chíp điện tử.",
        days: 8,
        fee: Some(("Lệ phí cấp hộ chiếu", 200_000)),
        form: Form::Passport,
    },
    Family {
        level: Level::Province,
        sector: Sector::Transport,
        names: &[
            "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
            "Cấp lại giấy phép lái xe",
            "Đổi giấy phép lái xe do nước ngoài cấp",
            "Cấp giấy phép lái xe quốc tế",
        ],
        keywords: &["bằng lái xe", "GPLX", "driving licence"],
        about: "Người có giấy phép lái xe đề nghị đổi, cấp lại hoặc cấp giấy phép quốc tế; kết quả là giấy phép lái xe bằng vật liệu PET.",
        days: 5,
        fee: Some(("Lệ phí cấp giấy phép lái xe", 135_000)),
        form: Form::Licence,
    },
    Family {
        level: Level::Province,
        sector: Sector::Planning,
        names: &[
            "Đăng ký thành lập doanh nghiệp tư nhân",
            "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
            "Đăng ký thành lập công ty cổ phần",
            "Đăng ký thay đổi người đại diện theo pháp luật",
            "Thông báo tạm ngừng kinh doanh",
            "Giải thể doanh nghiệp",
        ],
        keywords: &[
            "đăng ký doanh nghiệp",
            "thành lập công ty",
            "mã số doanh nghiệp",
            "business registration",
        ],
        about: "Người thành lập doanh nghiệp nộp hồ sơ tại Phòng Đăng ký kinh doanh; kết quả là Giấy chứng nhận đăng ký doanh nghiệp.",
        days: 3,
        fee: Some(("Lệ phí đăng ký doanh nghiệp", 50_000)),
        form: Form::Company,
    },
    Family {
        level: Level::Province,
        sector: Sector::Land,
        names: &[
            "Đăng ký biến động đất đai đối với tổ chức",
            "Cấp Giấy chứng nhận quyền sử dụng đất cho tổ chức",
            "Cung cấp thông tin, dữ liệu đất đai",
            "Gia hạn sử dụng đất",
        ],
        keywords: &["đất đai", "quyền sử dụng đất", "land"],
        about: "Tổ chức sử dụng đất nộp hồ sơ tại Văn phòng đăng ký đất đai; kết quả là Giấy chứng nhận hoặc văn bản cung cấp thông tin.",
        days: 20,
        fee: Some(("Phí thẩm định hồ sơ", 500_000)),
        form: Form::Land,
    },
    Family {
        level: Level::Province,
        sector: Sector::Construction,
        names: &[
            "Cấp giấy phép xây dựng mới đối với công trình cấp I, cấp II",
            "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III",
            "Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở",
        ],
        keywords: &[
            "giấy phép xây dựng",
            "chứng chỉ hành nghề xây dựng",
            "construction",
        ],
        about: "Chủ đầu tư hoặc cá nhân hành nghề đề nghị Sở Xây dựng cấp phép hoặc thẩm định; kết quả là giấy phép, chứng chỉ hoặc thông báo kết quả thẩm định.",
        days: 20,
        fee: Some(("Lệ phí cấp giấy phép", 150_000)),
        form: Form::Building,
    },
    Family {
        level: Level::Province,
        sector: Sector::SocialInsurance,
        names: &[
            "Giải quyết hưởng lương hưu",
            "Giải quyết hưởng trợ cấp tai nạn lao động, bệnh nghề nghiệp",
            "Giải quyết hưởng chế độ tử tuất",
        ],
        keywords: &["lương hưu", "BHXH", "nghỉ hưu", "pension"],
        about: "Người lao động hoặc thân nhân đề nghị giải quyết chế độ bảo hiểm xã hội; kết quả là quyết định hưởng chế độ.",
        days: 10,
        fee: None,
        form: Form::SocialInsurance,
    },
    Family {
        level: Level::Province,
        sector: Sector::Health,
        names: &[
            "Cấp giấy phép hành nghề khám bệnh, chữa bệnh",
            "Cấp giấy phép hoạt động phòng khám chuyên khoa",
            "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược",
        ],
        keywords: &["chứng chỉ hành nghề y", "phòng khám", "nhà thuốc"],
        about: "Người hành nghề hoặc cơ sở y tế đề nghị Sở Y tế cấp phép; kết quả là giấy phép hoặc giấy chứng nhận.",
        days: 30,
        fee: Some(("Phí thẩm định cấp giấy phép", 360_000)),
        form: Form::Professional,
    },
    Family {
        level: Level::Province,
        sector: Sector::Labour,
        names: &[
            "Cấp giấy phép lao động cho người nước ngoài làm việc tại Việt Nam",
            "Giải quyết hưởng trợ cấp thất nghiệp",
            "Cấp giấy phép hoạt động dịch vụ việc làm",
        ],
        keywords: &["giấy phép lao động", "thất nghiệp", "work permit"],
        about: "Người lao động hoặc doanh nghiệp đề nghị Sở Lao động - Thương binh và Xã hội giải quyết; kết quả là giấy phép hoặc quyết định hưởng.",
        days: 10,
        fee: Some(("Lệ phí cấp giấy phép lao động", 600_000)),
        form: Form::Professional,
    },
    // --- central ---------------------------------------------------------------------------
    Family {
        level: Level::Central,
        sector: Sector::Foreign,
        names: &[
            "Cấp hộ chiếu ngoại giao, hộ chiếu công vụ",
            "Chứng nhận lãnh sự, hợp pháp hóa lãnh sự giấy tờ, tài liệu",
        ],
        keywords: &[
            "hợp pháp hóa lãnh sự",
            "hộ chiếu công vụ",
            "consular legalisation",
        ],
        about: "Cơ quan, cá nhân đề nghị Cục Lãnh sự giải quyết; kết quả là hộ chiếu hoặc giấy tờ được chứng nhận.",
        days: 5,
        fee: Some(("Lệ phí chứng nhận lãnh sự", 30_000)),
        form: Form::Passport,
    },
    Family {
        level: Level::Central,
        sector: Sector::Immigration,
        names: &[
            "Cấp hộ chiếu phổ thông qua Cổng dịch vụ công quốc gia",
            "Cấp thị thực cho người nước ngoài tại Việt Nam",
            "Cấp thẻ tạm trú cho người nước ngoài",
        ],
        keywords: &["hộ chiếu", "passport", "visa", "thị thực"],
        about: "Công dân hoặc người nước ngoài đề nghị Cục Quản lý xuất nhập cảnh giải quyết trực tuyến; kết quả gửi qua bưu chính.",
        days: 8,
        fee: Some(("Lệ phí cấp hộ chiếu", 200_000)),
        form: Form::Passport,
    },
    Family {
        level: Level::Central,
        sector: Sector::Justice,
        names: &[
            "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam cư trú ở nước ngoài",
            "Cấp Chứng chỉ hành nghề luật sư",
            "Bổ nhiệm công chứng viên",
        ],
        keywords: &["lý lịch tư pháp", "luật sư", "công chứng viên"],
        about: "Cá nhân đề nghị Bộ Tư pháp giải quyết; kết quả là phiếu, chứng chỉ hoặc quyết định bổ nhiệm.",
        days: 15,
        fee: Some(("Phí thẩm định", 800_000)),
        form: Form::CriminalRecord,
    },
    Family {
        level: Level::Central,
        sector: Sector::SocialInsurance,
        names: &[
            "Tra cứu và cấp mã số bảo hiểm xã hội",
            "Đăng ký giao dịch điện tử với cơ quan bảo hiểm xã hội",
        ],
        keywords: &["mã số BHXH", "VssID", "bảo hiểm xã hội"],
        about: "Cá nhân, đơn vị đăng ký với Bảo hiểm xã hội Việt Nam; kết quả là mã số hoặc tài khoản giao dịch điện tử.",
        days: 3,
        fee: None,
        form: Form::SocialInsurance,
    },
    Family {
        level: Level::Central,
        sector: Sector::Planning,
        names: &[
            "Cấp Giấy chứng nhận đăng ký đầu tư",
            "Đăng ký đầu tư ra nước ngoài",
        ],
        keywords: &["đầu tư", "dự án đầu tư", "investment"],
        about: "Nhà đầu tư đề nghị Bộ Kế hoạch và Đầu tư cấp giấy chứng nhận; kết quả là Giấy chứng nhận đăng ký đầu tư.",
        days: 15,
        fee: None,
        form: Form::Company,
    },
    Family {
        level: Level::Central,
        sector: Sector::Transport,
        names: &[
            "Cấp giấy phép vận tải đường bộ quốc tế",
            "Đổi giấy phép lái xe quân sự sang giấy phép lái xe dân sự",
        ],
        keywords: &["vận tải", "giấy phép lái xe", "transport"],
        about: "Doanh nghiệp hoặc cá nhân đề nghị Cục Đường bộ Việt Nam cấp giấy phép; kết quả là giấy phép.",
        days: 5,
        fee: Some(("Lệ phí cấp giấy phép", 50_000)),
        form: Form::Licence,
    },
    Family {
        level: Level::Central,
        sector: Sector::Land,
        names: &[
            "Cấp giấy phép khai thác, sử dụng tài nguyên nước",
            "Cấp giấy phép môi trường",
        ],
        keywords: &["môi trường", "tài nguyên nước", "environment permit"],
        about: "Tổ chức đề nghị Bộ Tài nguyên và Môi trường cấp phép; kết quả là giấy phép.",
        days: 30,
        fee: Some(("Phí thẩm định", 2_000_000)),
        form: Form::Professional,
    },
    Family {
        level: Level::Central,
        sector: Sector::Construction,
        names: &[
            "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng I",
            "Cấp chứng chỉ năng lực hoạt động xây dựng hạng I",
        ],
        keywords: &["chứng chỉ hành nghề xây dựng", "năng lực xây dựng"],
        about: "Cá nhân, tổ chức đề nghị Bộ Xây dựng cấp chứng chỉ; kết quả là chứng chỉ.",
        days: 20,
        fee: Some(("Lệ phí cấp chứng chỉ", 300_000)),
        form: Form::Professional,
    },
    Family {
        level: Level::Central,
        sector: Sector::Health,
        names: &[
            "Cấp giấy đăng ký lưu hành thuốc",
            "Cấp giấy chứng nhận bài thuốc gia truyền",
        ],
        keywords: &["thuốc", "dược", "y tế"],
        about: "Cơ sở đề nghị Bộ Y tế cấp đăng ký hoặc chứng nhận; kết quả là giấy đăng ký hoặc giấy chứng nhận.",
        days: 30,
        fee: Some(("Phí thẩm định", 5_500_000)),
        form: Form::Professional,
    },
    Family {
        level: Level::Central,
        sector: Sector::Labour,
        names: &[
            "Cấp giấy phép hoạt động dịch vụ đưa người lao động đi làm việc ở nước ngoài",
            "Công nhận cơ sở giáo dục nghề nghiệp đủ điều kiện",
        ],
        keywords: &["xuất khẩu lao động", "giáo dục nghề nghiệp"],
        about: "Doanh nghiệp, cơ sở đề nghị Bộ Lao động - Thương binh và Xã hội giải quyết; kết quả là giấy phép hoặc quyết định công nhận.",
        days: 20,
        fee: Some(("Lệ phí cấp giấy phép", 5_000_000)),
        form: Form::Professional,
    },
];

/// A province (its name as agencies use it), its code for agency codes, and its districts with
/// their communes (wards, communes, townships).
struct Province {
    name: &'static str,
    code: &'static str,
    /// Fees in big cities are set higher by their People's Councils.
    fee_percent: u64,
    districts: &'static [(&'static str, &'static [&'static str])],
}

const PROVINCES: &[Province] = &[
    Province {
        name: "thành phố Hà Nội",
        code: "H26",
        fee_percent: 100,
        districts: &[
            (
                "quận Ba Đình",
                &[
                    "phường Phúc Xá",
                    "phường Trúc Bạch",
                    "phường Vĩnh Phúc",
                    "phường Cống Vị",
                    "phường Liễu Giai",
                    "phường Ngọc Hà",
                    "phường Điện Biên",
                    "phường Đội Cấn",
                    "phường Kim Mã",
                    "phường Giảng Võ",
                    "phường Thành Công",
                    "phường Quán Thánh",
                    "phường Ngọc Khánh",
                    "phường Nguyễn Trung Trực",
                ],
            ),
            (
                "quận Hoàn Kiếm",
                &[
                    "phường Hàng Bạc",
                    "phường Hàng Bồ",
                    "phường Hàng Buồm",
                    "phường Hàng Đào",
                    "phường Hàng Gai",
                    "phường Hàng Mã",
                    "phường Hàng Trống",
                    "phường Lý Thái Tổ",
                    "phường Tràng Tiền",
                    "phường Cửa Đông",
                    "phường Cửa Nam",
                    "phường Đồng Xuân",
                    "phường Phan Chu Trinh",
                    "phường Phúc Tân",
                    "phường Chương Dương",
                    "phường Hàng Bông",
                    "phường Trần Hưng Đạo",
                    "phường Hàng Bài",
                ],
            ),
            (
                "quận Đống Đa",
                &[
                    "phường Cát Linh",
                    "phường Hàng Bột",
                    "phường Khâm Thiên",
                    "phường Láng Hạ",
                    "phường Láng Thượng",
                    "phường Ô Chợ Dừa",
                    "phường Quốc Tử Giám",
                    "phường Văn Chương",
                    "phường Văn Miếu",
                    "phường Trung Liệt",
                    "phường Kim Liên",
                    "phường Phương Mai",
                ],
            ),
            (
                "quận Cầu Giấy",
                &[
                    "phường Dịch Vọng",
                    "phường Dịch Vọng Hậu",
                    "phường Mai Dịch",
                    "phường Nghĩa Đô",
                    "phường Nghĩa Tân",
                    "phường Quan Hoa",
                    "phường Trung Hòa",
                    "phường Yên Hòa",
                ],
            ),
            (
                "huyện Gia Lâm",
                &[
                    "thị trấn Trâu Quỳ",
                    "xã Bát Tràng",
                    "xã Đa Tốn",
                    "xã Kim Lan",
                    "xã Văn Đức",
                    "xã Dương Xá",
                ],
            ),
        ],
    },
    Province {
        name: "Thành phố Hồ Chí Minh",
        code: "H29",
        fee_percent: 100,
        districts: &[
            (
                "Quận 1",
                &[
                    "phường Bến Nghé",
                    "phường Bến Thành",
                    "phường Cầu Kho",
                    "phường Cầu Ông Lãnh",
                    "phường Cô Giang",
                    "phường Đa Kao",
                    "phường Nguyễn Cư Trinh",
                    "phường Nguyễn Thái Bình",
                    "phường Phạm Ngũ Lão",
                    "phường Tân Định",
                ],
            ),
            (
                "Quận 3",
                &[
                    "phường Võ Thị Sáu",
                    "Phường 1",
                    "Phường 2",
                    "Phường 3",
                    "Phường 4",
                    "Phường 5",
                    "Phường 9",
                    "Phường 11",
                    "Phường 12",
                    "Phường 14",
                ],
            ),
            (
                "thành phố Thủ Đức",
                &[
                    "phường An Khánh",
                    "phường An Phú",
                    "phường Bình Thọ",
                    "phường Hiệp Bình Chánh",
                    "phường Linh Trung",
                    "phường Linh Xuân",
                    "phường Thảo Điền",
                    "phường Thủ Thiêm",
                ],
            ),
            (
                "huyện Củ Chi",
                &[
                    "thị trấn Củ Chi",
                    "xã An Nhơn Tây",
                    "xã Phú Hòa Đông",
                    "xã Tân An Hội",
                ],
            ),
        ],
    },
    Province {
        name: "thành phố Đà Nẵng",
        code: "H31",
        fee_percent: 80,
        districts: &[
            (
                "quận Hải Châu",
                &[
                    "phường Hải Châu I",
                    "phường Hải Châu II",
                    "phường Thạch Thang",
                    "phường Thanh Bình",
                    "phường Thuận Phước",
                    "phường Hòa Thuận Đông",
                    "phường Bình Hiên",
                    "phường Nam Dương",
                ],
            ),
            (
                "quận Sơn Trà",
                &[
                    "phường An Hải Bắc",
                    "phường An Hải Đông",
                    "phường Mân Thái",
                    "phường Phước Mỹ",
                    "phường Thọ Quang",
                ],
            ),
        ],
    },
    Province {
        name: "thành phố Hải Phòng",
        code: "H27",
        fee_percent: 80,
        districts: &[
            (
                "quận Hồng Bàng",
                &[
                    "phường Hoàng Văn Thụ",
                    "phường Minh Khai",
                    "phường Phan Bội Châu",
                    "phường Quang Trung",
                    "phường Sở Dầu",
                ],
            ),
            (
                "quận Lê Chân",
                &[
                    "phường An Biên",
                    "phường Cát Dài",
                    "phường Dư Hàng",
                    "phường Hàng Kênh",
                    "phường Trại Cau",
                ],
            ),
        ],
    },
    Province {
        name: "thành phố Cần Thơ",
        code: "H92",
        fee_percent: 70,
        districts: &[(
            "quận Ninh Kiều",
            &[
                "phường An Cư",
                "phường An Hòa",
                "phường An Khánh",
                "phường Cái Khế",
                "phường Tân An",
                "phường Xuân Khánh",
                "phường Hưng Lợi",
            ],
        )],
    },
    Province {
        name: "tỉnh Thừa Thiên Huế",
        code: "H46",
        fee_percent: 60,
        districts: &[(
            "thành phố Huế",
            &[
                "phường Phú Hội",
                "phường Phú Nhuận",
                "phường Vĩnh Ninh",
                "phường Thuận Hòa",
                "phường Tây Lộc",
            ],
        )],
    },
    Province {
        name: "tỉnh Nghệ An",
        code: "H40",
        fee_percent: 50,
        districts: &[
            (
                "thành phố Vinh",
                &[
                    "phường Hưng Bình",
                    "phường Lê Lợi",
                    "phường Quang Trung",
                    "phường Trường Thi",
                    "phường Bến Thủy",
                ],
            ),
            ("huyện Nghi Lộc", &["thị trấn Quán Hành", "xã Nghi Phong"]),
        ],
    },
    Province {
        name: "tỉnh Quảng Ninh",
        code: "H22",
        fee_percent: 70,
        districts: &[(
            "thành phố Hạ Long",
            &[
                "phường Bãi Cháy",
                "phường Hồng Gai",
                "phường Hà Khẩu",
                "phường Cao Xanh",
                "phường Hồng Hải",
            ],
        )],
    },
    Province {
        name: "tỉnh Đắk Lắk",
        code: "H66",
        fee_percent: 50,
        districts: &[(
            "thành phố Buôn Ma Thuột",
            &[
                "phường Tân Lợi",
                "phường Thắng Lợi",
                "phường Thống Nhất",
                "phường Ea Tam",
                "phường Tân Hòa",
            ],
        )],
    },
    Province {
        name: "tỉnh Lâm Đồng",
        code: "H68",
        fee_percent: 50,
        districts: &[(
            "thành phố Đà Lạt",
            &["Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 10"],
        )],
    },
    Province {
        name: "tỉnh Khánh Hòa",
        code: "H56",
        fee_percent: 60,
        districts: &[(
            "thành phố Nha Trang",
            &[
                "phường Lộc Thọ",
                "phường Vĩnh Hải",
                "phường Phước Hòa",
                "phường Tân Lập",
                "phường Xương Huân",
            ],
        )],
    },
    Province {
        name: "tỉnh Bình Dương",
        code: "H74",
        fee_percent: 70,
        districts: &[(
            "thành phố Thủ Dầu Một",
            &[
                "phường Phú Cường",
                "phường Hiệp Thành",
                "phường Chánh Nghĩa",
                "phường Phú Hòa",
            ],
        )],
    },
    Province {
        name: "tỉnh Thanh Hóa",
        code: "H38",
        fee_percent: 50,
        districts: &[(
            "thành phố Thanh Hóa",
            &[
                "phường Ba Đình",
                "phường Điện Biên",
                "phường Đông Thọ",
                "phường Lam Sơn",
                "phường Ngọc Trạo",
            ],
        )],
    },
    Province {
        name: "tỉnh Bắc Ninh",
        code: "H27B",
        fee_percent: 60,
        districts: &[(
            "thành phố Bắc Ninh",
            &[
                "phường Đại Phúc",
                "phường Kinh Bắc",
                "phường Ninh Xá",
                "phường Suối Hoa",
                "phường Tiền An",
                "phường Vệ An",
            ],
        )],
    },
];

/// Where a generated procedure is handled.
struct Place<'a> {
    level: Level,
    province: Option<&'a Province>,
    district: Option<(usize, &'static str)>,
    commune: Option<(usize, &'static str)>,
}

/// The agency a sector's procedures go to at `level`: one People's Committee handles the
/// justice, land, planning and welfare procedures of its district or commune, one police office
/// the residence and identity ones, and so on. Sectors that share an agency share its code.
fn agency_sector(sector: Sector, level: Level) -> Sector {
    match (level, sector) {
        (_, Sector::Immigration) if level != Level::Central => Sector::Police,
        (Level::Province, Sector::Foreign) => Sector::Planning,
        (Level::District, Sector::Police | Sector::SocialInsurance) => sector,
        (Level::Commune, Sector::Police) => sector,
        (Level::District | Level::Commune, _) => Sector::Justice,
        _ => sector,
    }
}

fn agency_for(sector: Sector, place: &Place<'_>) -> Agency {
    let sector = agency_sector(sector, place.level);
    let s = sector.index();
    match (place.province, place.district, place.commune) {
        (None, _, _) => Agency {
            code: format!("000.00.00.G{s:02}"),
            name: sector.central().into(),
        },
        (Some(p), None, _) => Agency {
            code: format!("000.00.{s:02}.{}", p.code),
            name: sector.province(p.name),
        },
        (Some(p), Some((d, district)), None) => Agency {
            code: format!("000.{:02}.{s:02}.{}", d + 1, p.code),
            name: sector.district(district, p.name),
        },
        (Some(p), Some((d, district)), Some((c, commune))) => Agency {
            code: format!("{:03}.{:02}.{s:02}.{}", c + 1, d + 1, p.code),
            name: sector.commune(commune, district),
        },
    }
}

/// The whole catalogue, in a fixed order, each procedure at version 1.
pub fn catalogue(seed: u64) -> Vec<Procedure> {
    let mut rng = Rng::new(seed);
    let mut procedures = Vec::new();
    let mut places = vec![Place {
        level: Level::Central,
        province: None,
        district: None,
        commune: None,
    }];
    for province in PROVINCES {
        places.push(Place {
            level: Level::Province,
            province: Some(province),
            district: None,
            commune: None,
        });
        for (di, (district, communes)) in province.districts.iter().enumerate() {
            places.push(Place {
                level: Level::District,
                province: Some(province),
                district: Some((di, district)),
                commune: None,
            });
            for (ci, commune) in communes.iter().enumerate() {
                places.push(Place {
                    level: Level::Commune,
                    province: Some(province),
                    district: Some((di, district)),
                    commune: Some((ci, commune)),
                });
            }
        }
    }
    for place in &places {
        for family in FAMILIES.iter().filter(|f| f.level == place.level) {
            for (variant, name) in family.names.iter().enumerate() {
                let serial = procedures.len();
                procedures.push(make(&mut rng, family, place, variant, name, serial));
            }
        }
    }
    procedures
}

/// The code of the `serial`-th generated procedure: `N.NNNNNN` as the national catalogue
/// writes them (1: local, 2: provincial, 3: central), unique by construction.
pub fn code_for(level: Level, serial: usize) -> String {
    let prefix = match level {
        Level::Central => 3,
        Level::Province => 2,
        Level::District | Level::Commune => 1,
    };
    format!("{prefix}.{:06}", 1_000 + serial)
}

fn make(
    rng: &mut Rng,
    family: &Family,
    place: &Place<'_>,
    variant: usize,
    name: &str,
    serial: usize,
) -> Procedure {
    let agency = agency_for(family.sector, place);
    let days = (family.days + rng.below(3) as u32 + variant as u32 / 2).saturating_sub(1);
    let fee_percent = place.province.map_or(100, |p| p.fee_percent);
    let fees = match family.fee {
        // Some variants are free of charge (exemptions for the poor, the disabled, ...).
        Some((label, amount)) if rng.below(6) != 0 => {
            let mut fees = vec![Fee {
                label: label.into(),
                amount: round_fee(amount * fee_percent / 100),
            }];
            if rng.below(4) == 0 {
                fees.push(Fee {
                    label: "Phí dịch vụ bưu chính trả kết quả (nếu có)".into(),
                    amount: round_fee(20_000 + rng.below(4) * 5_000),
                });
            }
            fees
        }
        // Registering a birth is free, but the copies of the extract it yields are not: the
        // demo's procedure has a fee to pay. (No draw from `rng`: the rest of the catalogue is
        // unchanged.)
        None if family.form == Form::Birth => vec![Fee {
            label: "Phí cấp bản sao Trích lục khai sinh".into(),
            amount: 8_000,
        }],
        _ => Vec::new(),
    };
    let online = ["toàn trình", "một phần"][rng.below(2) as usize];
    let how = [
        "Nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia, qua ứng dụng VNeID hoặc trực tiếp tại Bộ phận Một cửa.",
        "Nộp hồ sơ trực tiếp tại Bộ phận tiếp nhận và trả kết quả, qua dịch vụ bưu chính công ích hoặc trực tuyến.",
        "Nộp hồ sơ trực tuyến hoặc trực tiếp; cán bộ tiếp nhận kiểm tra tính đầy đủ của hồ sơ và hẹn ngày trả kết quả.",
    ];
    let timing = if days == 0 {
        "Giải quyết ngay trong ngày làm việc; hồ sơ nhận sau 15 giờ được trả kết quả trong ngày làm việc tiếp theo.".to_string()
    } else {
        format!("Thời hạn giải quyết: {days} ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.")
    };
    let description = format!(
        "{} {} {timing} Dịch vụ công trực tuyến {online}. Cơ quan thực hiện: {}.",
        family.about,
        rng.pick(&how),
        agency.name
    );
    let mut keywords: Vec<String> = family.keywords.iter().map(|k| (*k).into()).collect();
    if let Some(province) = place.province {
        keywords.push(province.name.into());
    }
    Procedure {
        code: code_for(place.level, serial),
        version: 1,
        withdrawn: false,
        name: name.into(),
        description,
        keywords,
        agency,
        level: place.level,
        processing_days: days,
        fees,
        form: form(family.form, rng),
        attachments: attachments(family.form, rng),
    }
}

/// Fees are whole thousands of đồng.
fn round_fee(amount: u64) -> u64 {
    (amount / 1_000).max(1) * 1_000
}

fn field(id: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    let (pattern, min, max) = match kind {
        FieldKind::IdNumber => (Some("^[0-9]{12}$".to_string()), None, None),
        FieldKind::Phone => (Some("^0[0-9]{9}$".to_string()), None, None),
        FieldKind::Email => (None, Some(6), Some(254)),
        FieldKind::Text => (None, Some(1), Some(200)),
        FieldKind::Address => (None, Some(5), Some(300)),
        // Dates default to "not in the future".
        FieldKind::Date => (None, Some(-365 * 120), Some(0)),
        FieldKind::Number | FieldKind::Select => (None, None, None),
    };
    FormField {
        id: id.into(),
        label: label.into(),
        kind,
        required,
        pattern,
        min,
        max,
        options: Vec::new(),
    }
}

fn number(id: &str, label: &str, min: i64, max: i64) -> FormField {
    FormField {
        min: Some(min),
        max: Some(max),
        ..field(id, label, FieldKind::Number, true)
    }
}

fn select(id: &str, label: &str, options: &[(&str, &str)]) -> FormField {
    FormField {
        options: options
            .iter()
            .map(|(value, label)| SelectOption {
                value: (*value).into(),
                label: (*label).into(),
            })
            .collect(),
        ..field(id, label, FieldKind::Select, true)
    }
}

const SEX: &[(&str, &str)] = &[("nam", "Nam"), ("nu", "Nữ")];
const ETHNICITY: &[(&str, &str)] = &[
    ("kinh", "Kinh"),
    ("tay", "Tày"),
    ("thai", "Thái"),
    ("muong", "Mường"),
    ("khmer", "Khmer"),
    ("hoa", "Hoa"),
    ("nung", "Nùng"),
    ("hmong", "H'Mông"),
    ("dao", "Dao"),
    ("ede", "Ê Đê"),
    ("khac", "Dân tộc khác"),
];
const NATIONALITY: &[(&str, &str)] = &[("vn", "Việt Nam"), ("khac", "Quốc tịch khác")];
const RESULT_DELIVERY: &[(&str, &str)] = &[
    ("truc_tiep", "Nhận trực tiếp"),
    ("buu_chinh", "Nhận qua dịch vụ bưu chính"),
    ("dien_tu", "Nhận bản điện tử"),
];

/// The requester's part of every form, then the family's own fields.
fn form(kind: Form, rng: &mut Rng) -> Vec<FormField> {
    let mut fields = vec![
        field(
            "ho_ten",
            "Họ, chữ đệm và tên người yêu cầu",
            FieldKind::Text,
            true,
        ),
        field(
            "so_dinh_danh",
            "Số định danh cá nhân",
            FieldKind::IdNumber,
            true,
        ),
        field("ngay_sinh", "Ngày, tháng, năm sinh", FieldKind::Date, true),
        field("so_dien_thoai", "Số điện thoại", FieldKind::Phone, true),
        field("email", "Thư điện tử", FieldKind::Email, rng.below(3) == 0),
        field("dia_chi", "Nơi cư trú", FieldKind::Address, true),
    ];
    let own: Vec<FormField> = match kind {
        Form::Birth => vec![
            field(
                "ho_ten_tre",
                "Họ, chữ đệm và tên người được khai sinh",
                FieldKind::Text,
                true,
            ),
            FormField {
                min: Some(-365 * 18),
                ..field("ngay_sinh_tre", "Ngày sinh", FieldKind::Date, true)
            },
            select("gioi_tinh", "Giới tính", SEX),
            select("dan_toc", "Dân tộc", ETHNICITY),
            select("quoc_tich", "Quốc tịch", NATIONALITY),
            field("noi_sinh", "Nơi sinh", FieldKind::Address, true),
            field(
                "ho_ten_me",
                "Họ, chữ đệm và tên người mẹ",
                FieldKind::Text,
                true,
            ),
            field(
                "ho_ten_cha",
                "Họ, chữ đệm và tên người cha",
                FieldKind::Text,
                false,
            ),
            select(
                "quan_he",
                "Quan hệ với người được khai sinh",
                &[
                    ("me", "Mẹ"),
                    ("cha", "Cha"),
                    ("ong_ba", "Ông, bà"),
                    ("khac", "Người thân khác"),
                ],
            ),
        ],
        Form::Death => vec![
            field(
                "ho_ten_nguoi_chet",
                "Họ, chữ đệm và tên người đã chết",
                FieldKind::Text,
                true,
            ),
            field(
                "so_dinh_danh_nguoi_chet",
                "Số định danh cá nhân của người đã chết",
                FieldKind::IdNumber,
                true,
            ),
            FormField {
                min: Some(-365 * 5),
                ..field("ngay_chet", "Ngày chết", FieldKind::Date, true)
            },
            field("noi_chet", "Nơi chết", FieldKind::Address, true),
            select(
                "nguyen_nhan",
                "Nguyên nhân chết",
                &[
                    ("benh", "Bệnh"),
                    ("gia", "Già yếu"),
                    ("tai_nan", "Tai nạn"),
                    ("khac", "Khác"),
                ],
            ),
        ],
        Form::Marriage => vec![
            field(
                "ho_ten_ben_kia",
                "Họ, chữ đệm và tên bên kia",
                FieldKind::Text,
                true,
            ),
            field(
                "so_dinh_danh_ben_kia",
                "Số định danh cá nhân bên kia",
                FieldKind::IdNumber,
                true,
            ),
            field(
                "ngay_sinh_ben_kia",
                "Ngày sinh bên kia",
                FieldKind::Date,
                true,
            ),
            select(
                "tinh_trang_hon_nhan",
                "Tình trạng hôn nhân",
                &[
                    ("chua_ket_hon", "Chưa kết hôn"),
                    ("ly_hon", "Đã ly hôn"),
                    ("goa", "Vợ/chồng đã chết"),
                ],
            ),
            select(
                "muc_dich",
                "Mục đích sử dụng",
                &[("ket_hon", "Đăng ký kết hôn"), ("khac", "Mục đích khác")],
            ),
        ],
        Form::CivilStatus => vec![
            field(
                "ho_ten_nguoi_duoc",
                "Họ, chữ đệm và tên người được đăng ký",
                FieldKind::Text,
                true,
            ),
            field("noi_dung", "Nội dung yêu cầu", FieldKind::Text, true),
            field("ly_do", "Lý do", FieldKind::Text, true),
            select("quoc_tich", "Quốc tịch", NATIONALITY),
        ],
        Form::Certification => vec![
            number("so_ban", "Số bản cần chứng thực", 1, 50),
            number("so_trang", "Số trang của giấy tờ", 1, 500),
            field("ten_giay_to", "Tên giấy tờ, văn bản", FieldKind::Text, true),
        ],
        Form::Residence => vec![
            field(
                "dia_chi_moi",
                "Địa chỉ chỗ ở đề nghị đăng ký",
                FieldKind::Address,
                true,
            ),
            field(
                "ho_ten_chu_ho",
                "Họ, chữ đệm và tên chủ hộ",
                FieldKind::Text,
                true,
            ),
            select(
                "quan_he_chu_ho",
                "Quan hệ với chủ hộ",
                &[
                    ("chu_ho", "Chủ hộ"),
                    ("vo_chong", "Vợ, chồng"),
                    ("con", "Con"),
                    ("cha_me", "Cha, mẹ"),
                    ("khac", "Khác"),
                ],
            ),
            select(
                "cho_o",
                "Chỗ ở hợp pháp",
                &[("so_huu", "Thuộc sở hữu"), ("thue", "Thuê, mượn, ở nhờ")],
            ),
            FormField {
                min: Some(0),
                max: Some(365 * 2),
                ..field("den_ngay", "Thời hạn (đến ngày)", FieldKind::Date, false)
            },
        ],
        Form::Identity => vec![
            select(
                "ly_do",
                "Lý do",
                &[
                    ("cap_moi", "Cấp mới"),
                    ("du_tuoi", "Đủ tuổi đổi thẻ"),
                    ("hong", "Thẻ bị hư hỏng"),
                    ("mat", "Bị mất thẻ"),
                    ("thay_doi", "Thay đổi thông tin"),
                ],
            ),
            field("so_the_cu", "Số thẻ cũ", FieldKind::IdNumber, false),
            select(
                "nhom_mau",
                "Nhóm máu",
                &[
                    ("a", "A"),
                    ("b", "B"),
                    ("ab", "AB"),
                    ("o", "O"),
                    ("khong_ro", "Không rõ"),
                ],
            ),
        ],
        Form::Passport => vec![
            select(
                "loai",
                "Loại hộ chiếu",
                &[
                    ("pho_thong", "Phổ thông"),
                    ("cong_vu", "Công vụ"),
                    ("ngoai_giao", "Ngoại giao"),
                ],
            ),
            select("gioi_tinh", "Giới tính", SEX),
            field("noi_sinh", "Nơi sinh", FieldKind::Address, true),
            field(
                "so_ho_chieu_cu",
                "Số hộ chiếu gần nhất (nếu có)",
                FieldKind::Text,
                false,
            ),
            select("nhan_ket_qua", "Hình thức nhận kết quả", RESULT_DELIVERY),
        ],
        Form::Land => vec![
            number("so_thua", "Thửa đất số", 1, 99_999),
            number("so_to", "Tờ bản đồ số", 1, 9_999),
            number("dien_tich", "Diện tích (m²)", 1, 10_000_000),
            field(
                "dia_chi_thua_dat",
                "Địa chỉ thửa đất",
                FieldKind::Address,
                true,
            ),
            select(
                "muc_dich",
                "Mục đích sử dụng",
                &[
                    ("ont", "Đất ở tại nông thôn"),
                    ("odt", "Đất ở tại đô thị"),
                    ("luc", "Đất chuyên trồng lúa nước"),
                    ("cln", "Đất trồng cây lâu năm"),
                    ("skc", "Đất cơ sở sản xuất phi nông nghiệp"),
                ],
            ),
        ],
        Form::Building => vec![
            field("dia_diem", "Địa điểm xây dựng", FieldKind::Address, true),
            number(
                "dien_tich_xay_dung",
                "Diện tích xây dựng tầng 1 (m²)",
                10,
                100_000,
            ),
            number("so_tang", "Số tầng", 1, 60),
            number("chieu_cao", "Chiều cao công trình (m)", 3, 300),
            select(
                "cap_cong_trinh",
                "Cấp công trình",
                &[
                    ("dac_biet", "Cấp đặc biệt"),
                    ("i", "Cấp I"),
                    ("ii", "Cấp II"),
                    ("iii", "Cấp III"),
                    ("iv", "Cấp IV"),
                ],
            ),
        ],
        Form::Business => vec![
            field(
                "ten_ho_kinh_doanh",
                "Tên hộ kinh doanh",
                FieldKind::Text,
                true,
            ),
            field(
                "dia_diem_kinh_doanh",
                "Địa điểm kinh doanh",
                FieldKind::Address,
                true,
            ),
            field(
                "nganh_nghe",
                "Ngành, nghề kinh doanh",
                FieldKind::Text,
                true,
            ),
            number("von", "Vốn kinh doanh (đồng)", 0, 100_000_000_000),
            number("so_lao_dong", "Số lượng lao động", 0, 9),
        ],
        Form::Company => vec![
            field(
                "ten_doanh_nghiep",
                "Tên doanh nghiệp viết bằng tiếng Việt",
                FieldKind::Text,
                true,
            ),
            field("tru_so", "Địa chỉ trụ sở chính", FieldKind::Address, true),
            number(
                "von_dieu_le",
                "Vốn điều lệ (đồng)",
                1_000_000,
                1_000_000_000_000,
            ),
            FormField {
                pattern: Some("^[0-9]{4}$".into()),
                ..field(
                    "ma_nganh",
                    "Mã ngành kinh tế chính (VSIC)",
                    FieldKind::Text,
                    true,
                )
            },
            field(
                "email_doanh_nghiep",
                "Thư điện tử của doanh nghiệp",
                FieldKind::Email,
                false,
            ),
        ],
        Form::SocialInsurance => vec![
            FormField {
                pattern: Some("^[0-9]{10}$".into()),
                ..field("so_so_bhxh", "Mã số bảo hiểm xã hội", FieldKind::Text, true)
            },
            field(
                "don_vi",
                "Tên đơn vị sử dụng lao động",
                FieldKind::Text,
                false,
            ),
            FormField {
                min: Some(-365 * 2),
                ..field("tu_ngay", "Thời điểm bắt đầu hưởng", FieldKind::Date, false)
            },
            select(
                "nhan_tien",
                "Hình thức nhận",
                &[
                    ("tai_khoan", "Qua tài khoản ngân hàng"),
                    ("tien_mat", "Tiền mặt tại bưu điện"),
                ],
            ),
            FormField {
                pattern: Some("^[0-9]{6,19}$".into()),
                ..field(
                    "so_tai_khoan",
                    "Số tài khoản ngân hàng",
                    FieldKind::Text,
                    false,
                )
            },
        ],
        Form::HealthInsurance => vec![
            FormField {
                pattern: Some("^[A-Z]{2}[0-9]{13}$".into()),
                ..field(
                    "ma_the",
                    "Mã thẻ bảo hiểm y tế (nếu có)",
                    FieldKind::Text,
                    false,
                )
            },
            number("so_thanh_vien", "Số thành viên hộ gia đình tham gia", 1, 20),
            field(
                "noi_kham_ban_dau",
                "Nơi đăng ký khám, chữa bệnh ban đầu",
                FieldKind::Text,
                true,
            ),
        ],
        Form::Welfare => vec![
            field(
                "ho_ten_doi_tuong",
                "Họ, chữ đệm và tên đối tượng",
                FieldKind::Text,
                true,
            ),
            field(
                "so_dinh_danh_doi_tuong",
                "Số định danh cá nhân của đối tượng",
                FieldKind::IdNumber,
                true,
            ),
            select(
                "dien",
                "Diện đối tượng",
                &[
                    ("nguoi_cao_tuoi", "Người cao tuổi"),
                    ("khuyet_tat", "Người khuyết tật"),
                    ("tre_em", "Trẻ em có hoàn cảnh đặc biệt"),
                    ("ho_ngheo", "Thành viên hộ nghèo"),
                ],
            ),
            number(
                "thu_nhap",
                "Thu nhập bình quân (đồng/tháng)",
                0,
                100_000_000,
            ),
        ],
        Form::CriminalRecord => vec![
            select(
                "loai_phieu",
                "Loại phiếu",
                &[("so_1", "Phiếu số 1"), ("so_2", "Phiếu số 2")],
            ),
            number("so_luong", "Số lượng phiếu", 1, 10),
            field("muc_dich", "Mục đích sử dụng", FieldKind::Text, true),
            field(
                "noi_thuong_tru_truoc",
                "Nơi thường trú trước đây",
                FieldKind::Address,
                false,
            ),
            select("nhan_ket_qua", "Hình thức nhận kết quả", RESULT_DELIVERY),
        ],
        Form::Licence => vec![
            select(
                "hang",
                "Hạng giấy phép lái xe",
                &[
                    ("a1", "A1"),
                    ("a", "A"),
                    ("b", "B"),
                    ("c1", "C1"),
                    ("c", "C"),
                    ("d", "D"),
                    ("be", "BE"),
                    ("ce", "CE"),
                ],
            ),
            FormField {
                pattern: Some("^[0-9]{12}$".into()),
                ..field("so_gplx", "Số giấy phép lái xe", FieldKind::Text, true)
            },
            FormField {
                min: Some(-365 * 10),
                max: Some(365 * 10),
                ..field("ngay_het_han", "Ngày hết hạn", FieldKind::Date, false)
            },
        ],
        Form::Professional => vec![
            field("trinh_do", "Trình độ chuyên môn", FieldKind::Text, true),
            number("kinh_nghiem", "Số năm kinh nghiệm", 0, 60),
            field("noi_lam_viec", "Nơi làm việc", FieldKind::Address, false),
        ],
    };
    fields.extend(own);
    fields
}

const PDF_OR_IMAGE: &[&str] = &["application/pdf", "image/jpeg", "image/png"];

fn rule(
    kind: &str,
    label: &str,
    types: &[&str],
    max_mb: u64,
    min: u32,
    max: u32,
) -> AttachmentRule {
    AttachmentRule {
        kind: kind.into(),
        label: label.into(),
        media_types: types.iter().map(|t| (*t).into()).collect(),
        max_bytes: max_mb * 1024 * 1024,
        min_count: min,
        max_count: max,
    }
}

fn attachments(kind: Form, rng: &mut Rng) -> Vec<AttachmentRule> {
    let max_mb = [5, 10, 20][rng.below(3) as usize];
    let mut rules = vec![rule(
        "to_khai",
        "Tờ khai theo mẫu",
        &["application/pdf"],
        max_mb,
        1,
        1,
    )];
    let own: &[(&str, &str, u32, u32)] = match kind {
        Form::Birth => &[
            ("giay_chung_sinh", "Giấy chứng sinh", 1, 1),
            (
                "giay_to_ket_hon",
                "Giấy chứng nhận kết hôn của cha, mẹ",
                0,
                1,
            ),
        ],
        Form::Death => &[("giay_bao_tu", "Giấy báo tử hoặc giấy tờ thay thế", 1, 1)],
        Form::Marriage => &[(
            "xac_nhan_hon_nhan",
            "Giấy xác nhận tình trạng hôn nhân",
            0,
            2,
        )],
        Form::CivilStatus => &[(
            "giay_to_chung_minh",
            "Giấy tờ chứng minh nội dung yêu cầu",
            1,
            5,
        )],
        Form::Certification => &[("ban_chinh", "Bản chính giấy tờ cần chứng thực", 1, 20)],
        Form::Residence => &[("giay_to_cho_o", "Giấy tờ chứng minh chỗ ở hợp pháp", 1, 3)],
        Form::Identity => &[("anh_chan_dung", "Ảnh chân dung", 0, 1)],
        Form::Passport => &[
            ("anh_chan_dung", "Ảnh chân dung nền trắng 4x6", 1, 2),
            ("ho_chieu_cu", "Hộ chiếu cũ (nếu có)", 0, 1),
        ],
        Form::Land => &[
            ("giay_chung_nhan", "Giấy chứng nhận đã cấp", 0, 1),
            ("hop_dong", "Hợp đồng, văn bản về chuyển quyền", 0, 3),
            ("so_do_thua_dat", "Sơ đồ thửa đất", 0, 1),
        ],
        Form::Building => &[
            ("ban_ve", "Bản vẽ thiết kế xây dựng", 1, 10),
            ("giay_to_dat", "Giấy tờ về quyền sử dụng đất", 1, 2),
        ],
        Form::Business => &[("hop_dong_thue", "Hợp đồng thuê địa điểm (nếu có)", 0, 1)],
        Form::Company => &[
            ("dieu_le", "Điều lệ công ty", 1, 1),
            (
                "danh_sach_thanh_vien",
                "Danh sách thành viên, cổ đông",
                0,
                1,
            ),
        ],
        Form::SocialInsurance => &[("giay_to_huong", "Giấy tờ làm căn cứ hưởng chế độ", 1, 5)],
        Form::HealthInsurance => &[("danh_sach_ho", "Danh sách thành viên hộ gia đình", 1, 1)],
        Form::Welfare => &[("giay_xac_nhan", "Giấy tờ xác nhận hoàn cảnh", 0, 3)],
        Form::CriminalRecord => &[("giay_uy_quyen", "Văn bản ủy quyền (nếu ủy quyền)", 0, 1)],
        Form::Licence => &[
            ("gplx", "Giấy phép lái xe", 1, 1),
            (
                "giay_kham_suc_khoe",
                "Giấy khám sức khỏe của người lái xe",
                1,
                1,
            ),
            ("anh_chan_dung", "Ảnh chân dung 3x4", 1, 1),
        ],
        Form::Professional => &[
            ("van_bang", "Văn bằng, chứng chỉ chuyên môn", 1, 5),
            ("ly_lich", "Sơ yếu lý lịch", 0, 1),
        ],
    };
    for (kind, label, min, max) in own {
        let types: &[&str] = if kind.starts_with("anh_") {
            &["image/jpeg", "image/png"]
        } else {
            PDF_OR_IMAGE
        };
        rules.push(rule(kind, label, types, max_mb, *min, *max));
    }
    rules
}

/// Names of procedures the portal publishes later (`revise` adds them).
pub(crate) const LATER_NAMES: &[(&str, &str)] = &[
    ("Đăng ký khai sinh cho trẻ em bị bỏ rơi", "khai sinh"),
    (
        "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        "liên thông",
    ),
    (
        "Liên thông đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất",
        "liên thông",
    ),
    (
        "Cấp Phiếu lý lịch tư pháp trên ứng dụng VNeID",
        "lý lịch tư pháp",
    ),
    ("Đổi giấy phép lái xe trực tuyến toàn trình", "bằng lái xe"),
];

/// A procedure published later: the `n`-th of [`LATER_NAMES`] (cycling) at a commune of the
/// first province, with code serial `serial`.
pub(crate) fn later(rng: &mut Rng, n: usize, serial: usize) -> Procedure {
    let (name, keyword) = LATER_NAMES[n % LATER_NAMES.len()];
    let province = &PROVINCES[0];
    let (district, communes) = province.districts[0];
    let place = Place {
        level: Level::Commune,
        province: Some(province),
        district: Some((0, district)),
        commune: Some((n % communes.len(), communes[n % communes.len()])),
    };
    let family = &FAMILIES[0];
    let mut procedure = make(rng, family, &place, 0, name, serial);
    procedure.keywords.insert(0, keyword.into());
    procedure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_large_valid_unique_and_deterministic() {
        let procedures = catalogue(SEED);
        assert!(procedures.len() >= 7_000, "{}", procedures.len());
        let mut codes: Vec<&str> = procedures.iter().map(|p| p.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), procedures.len());
        for procedure in &procedures {
            procedure
                .check()
                .unwrap_or_else(|e| panic!("{}: {e}", procedure.code));
        }
        for level in Level::ALL {
            assert!(procedures.iter().any(|p| p.level == level), "{level:?}");
        }
        assert!(procedures.iter().any(|p| p.fees.is_empty()));
        assert!(procedures.iter().any(|p| !p.fees.is_empty()));
        assert_eq!(catalogue(SEED), procedures);
        assert_ne!(catalogue(SEED + 1), procedures);
    }
}
