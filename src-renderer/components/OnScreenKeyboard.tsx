/**
 * An on-screen keyboard for kiosks without one (KIO-6), from react-simple-keyboard: the QWERTY
 * layout in English, and pinyin with a candidate bar in Chinese (simple-keyboard-layouts). It
 * edits `value` through `onChange`; Enter calls `onEnter`.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import Keyboard from 'react-simple-keyboard';
import 'react-simple-keyboard/build/css/index.css';
import chineseLayout from 'simple-keyboard-layouts/build/layouts/chinese';
import { useTerminal } from '../stores/hooks.js';

const ENGLISH = {
  default: ['1 2 3 4 5 6 7 8 9 0 - {bksp}', 'q w e r t y u i o p', 'a s d f g h j k l {enter}', '{shift} z x c v b n m , . {shift}', '{space}'],
  shift: ['! @ # $ % & * ( ) _ / {bksp}', 'Q W E R T Y U I O P', 'A S D F G H J K L {enter}', '{shift} Z X C V B N M ; : {shift}', '{space}'],
};

/** The pinyin layout carries its candidates, which the package's type does not declare. */
const chinese = chineseLayout as typeof chineseLayout & { layoutCandidates: Record<string, string> };

interface KeyboardHandle {
  setInput(input: string): void;
}

export function OnScreenKeyboard({ value, onChange, onEnter, testId = 'keyboard' }: { value: string; onChange: (v: string) => void; onEnter?: () => void; testId?: string }) {
  const { t } = useTranslation();
  const locale = useTerminal((s) => s.locale);
  const [layoutName, setLayoutName] = useState<'default' | 'shift'>('default');
  const ref = useRef<KeyboardHandle | null>(null);
  useEffect(() => {
    ref.current?.setInput(value);
  }, [value]);
  const zh = locale === 'zh';
  return (
    <div className="osk" data-testid={testId}>
      <Keyboard
        keyboardRef={(r: KeyboardHandle) => {
          ref.current = r;
        }}
        layoutName={layoutName}
        layout={zh ? chinese.layout : ENGLISH}
        {...(zh ? { layoutCandidates: chinese.layoutCandidates, layoutCandidatesPageSize: 8 } : {})}
        display={{ '{bksp}': '⌫', '{enter}': t('keyboard.done'), '{shift}': '⇧', '{space}': ' ', '{lock}': '⇪', '{tab}': '⇥' }}
        mergeDisplay
        theme="hg-theme-default kiosk-keyboard"
        preventMouseDownDefault
        onChange={(input: string) => onChange(input)}
        onKeyPress={(button: string) => {
          if (button === '{shift}' || button === '{lock}') setLayoutName((l) => (l === 'default' ? 'shift' : 'default'));
          if (button === '{enter}') onEnter?.();
        }}
      />
    </div>
  );
}
