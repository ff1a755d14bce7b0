"""Sample filling data in the canonical JSON of the `bim_building` form (collab.content), for tests,
benchmarks and the demo. The project is fictitious; the values are illustrative, not engineering output.

`filling(...)` scales: more notes paragraphs flow over more sheets, more load rows make a longer
calculation book. Must not: be read by production code paths other than the demo seed.
"""

from __future__ import annotations

import copy
from typing import Any

Json = Any

PROJECT: dict[str, Json] = {
    "project_name": "浦东新区张江科学城人才公寓项目 1号楼",
    "project_code": "2611-310115-04-01-580231",
    "construction_unit": "上海浦江置业有限公司",
    "design_unit": "上海浦江建筑设计研究院有限公司",
    "location": "上海市浦东新区张江科学城海科路以南、科苑路以东",
    "building_category": "住宅建筑",
    "total_area": 31850.5,
    "above_ground_area": 24620.5,
    "below_ground_area": 7230,
    "height": 79.9,
    "above_floors": 26,
    "below_floors": 2,
    "fire_resistance": "一级",
    "design_life": "50年",
    "design_date": "2026-11-20",
    "prefabricated": True,
}

STRUCTURE: dict[str, Json] = {
    "structure_type": "剪力墙结构",
    "safety_grade": "二级",
    "seismic_intensity": "7度",
    "seismic_acceleration": "0.10g",
    "site_class": "Ⅳ",
    "foundation_type": "桩筏基础",
    "basic_wind_pressure": 0.55,
    "basic_snow_pressure": 0.2,
}

UNITS = [
    {"name": "1号楼", "use": "人才公寓", "floors": 26, "height": 79.9, "area": 24620.5},
    {"name": "地下车库", "use": "停车库、设备用房", "floors": 2, "height": 9.6, "area": 7230},
]

WALLS = [
    {"position": "外墙", "material": "蒸压加气混凝土砌块", "thickness": 200, "fire_limit": 3},
    {"position": "分户墙", "material": "蒸压加气混凝土砌块", "thickness": 200, "fire_limit": 2},
    {"position": "楼梯间墙", "material": "钢筋混凝土", "thickness": 200, "fire_limit": 3},
]

LOADS = [
    {"room": "住宅套内", "category": "住宅", "live_load": 2.0, "dead_load": 1.5},
    {"room": "公共走廊", "category": "走廊、门厅", "live_load": 2.0, "dead_load": 1.5},
    {"room": "疏散楼梯", "category": "楼梯", "live_load": 3.5, "dead_load": 1.8},
    {"room": "上人屋面", "category": "上人屋面", "live_load": 2.0, "dead_load": 3.5},
    {"room": "地下车库", "category": "汽车通道及停车库", "live_load": 4.0, "dead_load": 2.0},
]

ARCHITECTURE_NOTES = [
    (
        "一、设计依据",
        [
            "1. 建设单位提供的设计任务书及经批准的方案设计文件；上海市规划和自然资源局核发的建设工程规划许可证及附图。",
            "2. 《民用建筑设计统一标准》GB 50352-2019；《建筑设计防火规范》GB 50016-2014（2018 年版）；"
            "《住宅设计规范》GB 50096-2011；《住宅建筑规范》GB 50368-2005；《无障碍设计规范》GB 50763-2012。",
            "3. 《上海市住宅设计标准》DGJ 08-20-2019；《居住建筑节能设计标准》DG/TJ 08-205-2015；"
            "《建筑工程设计文件编制深度规定》（2016 年版）。",
        ],
    ),
    (
        "二、工程概况",
        [
            "本工程位于上海市浦东新区张江科学城，为二类高层住宅，地上 26 层，地下 2 层，建筑高度 79.9 m，"
            "总建筑面积 31850.5 m²，其中地上 24620.5 m²，地下 7230 m²。设计使用年限 50 年，耐火等级一级，"
            "屋面防水等级Ⅰ级，地下室防水等级一级，抗震设防烈度 7 度。",
            "本工程为装配式建筑，预制构件包括预制叠合楼板、预制楼梯及预制阳台板，单体预制率不低于 40%。",
        ],
    ),
    (
        "三、设计标高",
        [
            "本工程室内地坪设计标高 ±0.000 相当于绝对标高 4.650 m（吴淞高程系）。各层标注标高为建筑完成面标高，"
            "屋面标高为结构面标高。本工程标高以米为单位，其余尺寸以毫米为单位。",
        ],
    ),
    (
        "四、墙体工程",
        [
            "1. 外墙采用 200 厚蒸压加气混凝土砌块，外贴 50 厚岩棉保温板；分户墙采用 200 厚蒸压加气混凝土砌块，"
            "两侧各抹 20 厚粉刷石膏。墙身防潮层在室内地坪下 60 处做 20 厚 1:2 水泥砂浆内掺 5% 防水剂。",
            "2. 砌体墙与混凝土墙、柱交接处，应按结构说明设置拉结筋；不同材料基体交接处，"
            "应铺设宽度不小于 300 的耐碱玻纤网格布，以防开裂。",
            "3. 所有管井待管线安装完毕后，在每层楼板处用相当于楼板耐火极限的不燃材料作防火分隔。",
        ],
    ),
    (
        "五、屋面工程",
        [
            "屋面防水等级为Ⅰ级，采用两道防水设防：3 厚 SBS 改性沥青防水卷材与 1.5 厚聚氨酯防水涂料；"
            "保温层采用 70 厚挤塑聚苯板，燃烧性能 B1 级，屋面排水坡度不小于 2%。",
        ],
    ),
    (
        "六、门窗工程",
        [
            "外窗采用断热铝合金中空玻璃窗（6+12A+6），气密性能不低于 7 级，水密性能不低于 4 级，"
            "抗风压性能不低于 5 级；七层及以上外开窗须采取防坠落措施。防火门、防火窗应采用经消防检测合格的产品，"
            "常闭防火门应安装闭门器，双扇防火门应安装顺序器。",
        ],
    ),
    (
        "七、消防设计",
        [
            "本工程为二类高层住宅，每个单元设一部防烟楼梯间及一部消防电梯，疏散楼梯间采用自然通风。"
            "住宅部分与地下车库之间采用防火墙及甲级防火门分隔，地下车库按每 2000 m² 划分防火分区并设自动喷水灭火系统。",
        ],
    ),
    (
        "八、节能设计",
        [
            "本工程按《居住建筑节能设计标准》DG/TJ 08-205-2015 设计，外墙平均传热系数 K≤0.80 W/(m²·K)，"
            "屋面 K≤0.40 W/(m²·K)，外窗 K≤2.0 W/(m²·K)，具体详见节能专篇。",
        ],
    ),
]

STRUCTURE_NOTES = [
    (
        "一、工程概况",
        [
            "本工程地上 26 层，地下 2 层，结构形式为剪力墙结构，房屋高度 79.9 m，标准层层高 3.0 m。"
            "地下车库为框架结构，与主楼之间设后浇带分隔，不设永久缝。",
        ],
    ),
    (
        "二、设计依据",
        [
            "1. 结构设计使用年限 50 年，建筑结构安全等级二级，结构重要性系数 γ0=1.0；地基基础设计等级甲级。",
            "2. 抗震设防烈度 7 度，设计基本地震加速度 0.10g，设计地震分组第二组，建筑场地类别Ⅳ类，"
            "抗震设防类别为标准设防类（丙类），剪力墙抗震等级二级。",
            "3. 基本风压 w0=0.55 kN/m²（50 年一遇），地面粗糙度 B 类；基本雪压 s0=0.20 kN/m²。",
            "4. 《建筑与市政工程抗震通用规范》GB 55002-2021；《工程结构通用规范》GB 55001-2021；"
            "《建筑结构荷载规范》GB 50009-2012；《混凝土结构设计规范》GB 50010-2010（2015 年版）；"
            "《高层建筑混凝土结构技术规程》JGJ 3-2010；《上海市地基基础设计标准》DGJ 08-11-2018。",
        ],
    ),
    (
        "三、主要结构材料",
        [
            "1. 混凝土：基础垫层 C15；桩、承台及筏板 C35，抗渗等级 P8；剪力墙及连梁：地下室至 10 层 C50，"
            "11～20 层 C40，21 层以上 C30；梁板 C30。",
            "2. 钢筋：HPB300（fy=270 N/mm²），HRB400（fy=360 N/mm²）；抗震等级为一、二级的框架和斜撑构件，"
            "其纵向受力钢筋采用 HRB400E，实测抗拉强度与屈服强度之比不小于 1.25。",
        ],
    ),
    (
        "四、地基与基础",
        [
            "本工程采用钻孔灌注桩桩筏基础，桩径 700 mm，有效桩长 48 m，以⑨层粉砂为桩端持力层，"
            "单桩竖向抗压承载力特征值 3600 kN。施工前应进行试桩，试桩数量不少于总桩数的 1% 且不少于 3 根。",
            "基坑开挖深度约 10.2 m，属深基坑工程，支护设计另详，须经专项论证后方可实施。",
        ],
    ),
    (
        "五、钢筋混凝土工程",
        [
            "纵向受力钢筋的混凝土保护层厚度：板 15 mm，梁 20 mm，剪力墙 15 mm，基础底板 40 mm；"
            "钢筋锚固与搭接长度按 22G101-1 图集执行。后浇带应在主体结构封顶 60 天后采用高一等级的补偿收缩混凝土浇筑。",
        ],
    ),
    (
        "六、检测与观测",
        [
            "本工程应进行沉降观测，自基础施工起至沉降稳定止。未经技术鉴定或设计许可，不得改变结构的用途和使用环境。",
        ],
    ),
]


def richtext(sections: list[tuple[str, list[str]]], repeat: int = 1) -> dict[str, Json]:
    """ProseMirror JSON as the collaborative editor writes it: level-2 headings and paragraphs."""
    content: list[Json] = []
    for round_ in range(repeat):
        for heading, paragraphs in sections:
            title = heading if round_ == 0 else f"{heading}（续 {round_}）"
            content.append(
                {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": title}]}
            )
            content.extend(
                {"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs
            )
    return {"type": "doc", "content": content}


def load_rows(count: int) -> list[dict[str, Json]]:
    """`count` load rows: the base rows, then one per storey and room kind."""
    rows = [dict(row) for row in LOADS]
    storey = 1
    while len(rows) < count:
        for base in LOADS[:3]:
            if len(rows) == count:
                break
            rows.append({**base, "room": f"{storey}层{base['room']}"})
        storey += 1
    return rows[:count]


def filling(notes_repeat: int = 1, loads: int = len(LOADS)) -> dict[str, Json]:
    """A complete, valid `bim_building` document's canonical content (`collab.content.content_of`)."""
    sections = copy.deepcopy({
        "project": PROJECT,
        "structure": STRUCTURE,
        "units": UNITS,
        "walls": WALLS,
        "loads": load_rows(loads),
        "architecture_notes": richtext(ARCHITECTURE_NOTES, notes_repeat),
        "structure_notes": richtext(STRUCTURE_NOTES, notes_repeat),
    })  # fmt: skip
    return {"form": "bim_building", "form_version": 1, "sections": sections}
