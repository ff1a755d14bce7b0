-- The project registry's numbers and classification: the 报建编号 a project gets when it registers, its
-- type (房建/市政/交通/水务/绿化/工业/其他) and custom tags; the 联审编号 of each 开工一件事 application.
-- Numbers come from sequences through configurable templates (server/projects/codes.py).

CREATE SEQUENCE project_baojian_seq;
CREATE SEQUENCE approval_lianshen_seq;

ALTER TABLE project ADD COLUMN baojian_no text UNIQUE;
ALTER TABLE project ADD COLUMN project_type text NOT NULL DEFAULT '其他'
    CHECK (project_type IN ('房建', '市政', '交通', '水务', '绿化', '工业', '其他'));
ALTER TABLE project ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
UPDATE project SET baojian_no = 'BJ' || to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY')
                                || lpad(nextval('project_baojian_seq')::text, 6, '0')
WHERE baojian_no IS NULL;

ALTER TABLE approval_application ADD COLUMN lianshen_no text UNIQUE;
