/** The red flags of CONTENT.md, as the form's checkboxes. `emergency` ones need a call now. */
export const RED_FLAGS = [
  { id: 'chest', label: 'Chest pain, pressure or tightness', emergency: true },
  { id: 'breath', label: 'Shortness of breath', emergency: true },
  { id: 'sweat', label: 'Sweating, nausea or feeling light-headed', emergency: true },
  { id: 'spread', label: 'Pain spreading to the arm, neck or jaw', emergency: true },
  { id: 'injury', label: 'Pain that started after a fall or injury', emergency: false },
  { id: 'fever', label: 'Fever', emergency: false },
  { id: 'weight', label: 'Weight loss you cannot explain', emergency: false },
  { id: 'numb', label: 'Numbness or weakness', emergency: false },
  { id: 'worse', label: 'Pain that keeps getting worse', emergency: false },
] as const;
export type RedFlagId = (typeof RED_FLAGS)[number]['id'];
