"""What the demo data is made of: the department's units, procedures, people and companies.

Procedure names follow the department's published catalogue; the codes are shaped like the
national catalogue's but are illustrative. All people, ID numbers and companies are fictitious.
"""

UNITS = [
    ("000.01.21.H48", "Văn phòng Sở"),
    ("000.02.21.H48", "Phòng Quản lý chuyên ngành"),
    ("000.03.21.H48", "Phòng Quản lý công nghệ và Thị trường công nghệ"),
    ("000.04.21.H48", "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    ("000.05.21.H48", "Phòng Kế hoạch - Tài chính"),
    ("000.06.21.H48", "Thanh tra Sở"),
]
MAIN_UNIT = "000.02.21.H48"

RADIATION = "An toàn bức xạ và hạt nhân"
TRANSFER = "Chuyển giao công nghệ"
SCIENCE = "Hoạt động khoa học và công nghệ"
QUALITY = "Tiêu chuẩn Đo lường Chất lượng"

P, ORG = "person", "organisation"

# code, name, field, unit, retention (None: permanent), abbreviation, document title,
# validity in years (None: no expiry), who it is issued to.
# Retention (illustrative, README "Retention and the archive"): licences and registrations that found
# an organisation's or a person's standing are kept permanently; technology transfer contracts 50 years;
# measurement standards and X-ray declarations 20 years; staff certificates, conformity notices and
# award registrations 10 years.
PROCEDURES = [
    ("1.010711", "Cấp giấy phép tiến hành công việc bức xạ - Sử dụng thiết bị X-quang chẩn đoán trong y tế",
     RADIATION, "000.02.21.H48", None, "GP-SKHCN", "GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ", 3, (ORG, P)),
    ("1.010712", "Gia hạn giấy phép tiến hành công việc bức xạ - Sử dụng thiết bị X-quang chẩn đoán trong y tế",
     RADIATION, "000.02.21.H48", None, "GP-SKHCN", "GIẤY PHÉP TIẾN HÀNH CÔNG VIỆC BỨC XẠ (GIA HẠN)", 3, (ORG, P)),
    ("1.010713", "Khai báo thiết bị X-quang chẩn đoán trong y tế",
     RADIATION, "000.02.21.H48", 20, "XNKB-SKHCN", "GIẤY XÁC NHẬN KHAI BÁO THIẾT BỊ X-QUANG", None, (ORG, P)),
    ("1.010714", "Cấp chứng chỉ nhân viên bức xạ cho người phụ trách an toàn cơ sở X-quang chẩn đoán trong y tế",
     RADIATION, "000.02.21.H48", 10, "CC-SKHCN", "CHỨNG CHỈ NHÂN VIÊN BỨC XẠ", None, (P,)),
    ("2.002131", "Đăng ký hợp đồng chuyển giao công nghệ (trừ những trường hợp thuộc thẩm quyền của "
     "Bộ Khoa học và Công nghệ)", TRANSFER, "000.03.21.H48", 50, "GCN-SKHCN",
     "GIẤY CHỨNG NHẬN ĐĂNG KÝ CHUYỂN GIAO CÔNG NGHỆ", None, (ORG,)),
    ("2.002132", "Đăng ký gia hạn, sửa đổi, bổ sung nội dung chuyển giao công nghệ",
     TRANSFER, "000.03.21.H48", 50, "GCN-SKHCN", "GIẤY CHỨNG NHẬN ĐĂNG KÝ GIA HẠN, SỬA ĐỔI, BỔ SUNG "
     "NỘI DUNG CHUYỂN GIAO CÔNG NGHỆ", None, (ORG,)),
    ("1.003511", "Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ",
     SCIENCE, "000.03.21.H48", None, "GCN-SKHCN", "GIẤY CHỨNG NHẬN DOANH NGHIỆP KHOA HỌC VÀ CÔNG NGHỆ",
     None, (ORG,)),
    ("1.004228", "Đăng ký thành lập, đăng ký thay đổi nội dung đăng ký hoạt động của tổ chức khoa học và "
     "công nghệ", SCIENCE, "000.02.21.H48", None, "ĐK-SKHCN",
     "GIẤY CHỨNG NHẬN ĐĂNG KÝ HOẠT ĐỘNG KHOA HỌC VÀ CÔNG NGHỆ", None, (ORG,)),
    ("1.004230", "Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ không sử dụng ngân sách nhà nước",
     SCIENCE, "000.02.21.H48", None, "ĐK-SKHCN",
     "GIẤY CHỨNG NHẬN ĐĂNG KÝ KẾT QUẢ THỰC HIỆN NHIỆM VỤ KHOA HỌC VÀ CÔNG NGHỆ", None, (P, ORG)),
    ("1.001256", "Tiếp nhận bản công bố hợp quy sản phẩm, hàng hóa", QUALITY, "000.04.21.H48", 10,
     "TB-TĐC", "THÔNG BÁO TIẾP NHẬN HỒ SƠ CÔNG BỐ HỢP QUY", None, (ORG,)),
    ("1.001257", "Chứng nhận chuẩn đo lường để kiểm định, hiệu chuẩn, thử nghiệm phương tiện đo, "
     "chuẩn đo lường", QUALITY, "000.04.21.H48", 20, "QĐ-TĐC", "QUYẾT ĐỊNH CHỨNG NHẬN CHUẨN ĐO LƯỜNG", 5, (ORG,)),
    ("1.001258", "Cấp giấy xác nhận đăng ký hoạt động xét tặng giải thưởng chất lượng sản phẩm, hàng hóa",
     QUALITY, "000.04.21.H48", 10, "XN-TĐC", "GIẤY XÁC NHẬN ĐĂNG KÝ HOẠT ĐỘNG XÉT TẶNG GIẢI THƯỞNG CHẤT LƯỢNG",
     5, (ORG,)),
]

SIGNERS = {
    "000.02.21.H48": [("Trần Văn Hùng", "Giám đốc"), ("Lê Thị Thu Hà", "Phó Giám đốc")],
    "000.03.21.H48": [("Trần Văn Hùng", "Giám đốc"), ("Phạm Minh Tuấn", "Phó Giám đốc")],
    "000.04.21.H48": [("Võ Thị Minh Nguyệt", "Chi cục trưởng"), ("Huỳnh Tấn Phát", "Phó Chi cục trưởng")],
}

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Đinh"]
MIDDLE_M = ["Văn", "Minh", "Quốc", "Đức", "Hữu", "Thanh", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Kim", "Mỹ", "Thanh"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Khánh", "Long", "Nam", "Phúc", "Quang",
           "Sơn", "Thắng", "Trung", "Vinh"]
GIVEN_F = ["Anh", "Châu", "Diệp", "Giang", "Hằng", "Hương", "Lan", "Linh", "Mai", "Ngân", "Oanh", "Phương",
           "Thảo", "Trâm", "Uyên", "Yến"]

ORGANISATIONS = [
    "Bệnh viện Đa khoa tỉnh Quảng Ngãi", "Bệnh viện Sản - Nhi tỉnh Quảng Ngãi", "Trung tâm Y tế huyện Bình Sơn",
    "Trung tâm Y tế huyện Sơn Tịnh", "Trung tâm Y tế thị xã Đức Phổ", "Trung tâm Y tế huyện Mộ Đức",
    "Phòng khám Đa khoa Thiện Nhân", "Phòng khám Đa khoa Phúc Hưng", "Bệnh viện Đa khoa Phúc Hưng",
    "Công ty TNHH Thiết bị Y tế Minh Phát", "Công ty Cổ phần Đường Quảng Ngãi",
    "Công ty Cổ phần Nông sản Thực phẩm Quảng Ngãi",
    "Công ty TNHH Cơ khí Chính xác Dung Quất", "Công ty Cổ phần Nước khoáng Thạch Bích",
    "Công ty TNHH MTV Công nghệ Sinh học Sa Huỳnh", "Công ty Cổ phần Thủy sản Sa Kỳ",
    "Công ty TNHH Năng lượng Mặt trời Trà Khúc", "Công ty Cổ phần Bia Dung Quất", "Công ty TNHH Phần mềm Thiên Ấn",
    "Viện Nghiên cứu Nông nghiệp Duyên hải Nam Trung Bộ",
    "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Quảng Ngãi",
    "Công ty Cổ phần Kiểm định Kỹ thuật An Toàn Miền Trung", "Công ty TNHH Tôm giống Đức Phổ",
    "Hợp tác xã Nông nghiệp Tịnh Phong", "Công ty Cổ phần Xây dựng Vạn Tường",
]

STREETS = ["Hùng Vương", "Quang Trung", "Lê Lợi", "Phạm Văn Đồng", "Trần Hưng Đạo", "Nguyễn Nghiêm",
           "Lê Trung Đình", "Phan Đình Phùng", "Bà Triệu", "Nguyễn Công Phương"]
PLACES = ["phường Trần Phú, thành phố Quảng Ngãi", "phường Nghĩa Chánh, thành phố Quảng Ngãi",
          "phường Chánh Lộ, thành phố Quảng Ngãi", "thị trấn Châu Ổ, huyện Bình Sơn",
          "thị trấn Tịnh Hà, huyện Sơn Tịnh", "phường Nguyễn Nghiêm, thị xã Đức Phổ",
          "thị trấn Mộ Đức, huyện Mộ Đức", "xã Bình Trị, huyện Bình Sơn", "thị trấn La Hà, huyện Tư Nghĩa"]

DEVICES = ["Shimadzu MobileDaRt Evolution", "Siemens Multix Fusion", "GE Definium 6000", "Toshiba KXO-50G",
           "Fujifilm FDR Smart X", "Philips DigitalDiagnost C90", "Carestream DRX-Ascend"]
TECHNOLOGIES = [
    "công nghệ sản xuất phân bón hữu cơ vi sinh từ phụ phẩm mía đường",
    "dây chuyền chế biến tinh bột sắn công suất 150 tấn/ngày",
    "công nghệ nuôi tôm thẻ chân trắng tuần hoàn trong nhà màng",
    "quy trình xử lý nước thải chế biến thủy sản bằng màng sinh học",
    "công nghệ sấy lạnh nông sản bằng bơm nhiệt",
    "phần mềm quản lý chuỗi cung ứng nông sản có truy xuất nguồn gốc",
]
PRODUCTS = ["nước khoáng đóng chai", "thép cốt bê tông", "mũ bảo hiểm cho người đi mô tô", "xi măng poóc lăng hỗn hợp",
            "phân bón NPK", "đồ chơi trẻ em", "dây điện bọc nhựa PVC"]
MEASURES = ["cân kỹ thuật cấp chính xác III", "bình chuẩn kim loại hạng 2", "công tơ điện chuẩn",
            "quả cân chuẩn cấp chính xác M1", "áp kế chuẩn"]

# The demo accounts, opening the README: username, role, password, name.
ACCOUNTS = [
    ("admin", "admin", "QuanTri@2026", "Quản trị hệ thống"),
    ("canbo", "staff", "SoHoa@2026", "Nguyễn Thị Hồng"),
    ("kiemtra", "reviewer", "KiemDuyet@2026", "Lê Văn Tâm"),
    ("congdan", "holder", "MinhKhanh@2026", "Phạm Minh Khánh"),
    ("doanhnghiep", "holder", "MinhPhat@2026", "Công ty TNHH Thiết bị Y tế Minh Phát"),
]
DEMO_CITIZEN_CCCD = "051089004217"
